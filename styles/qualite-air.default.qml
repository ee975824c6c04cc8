<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<!-- Qualité de l'air – NO2 moyen annuel / Air quality – NO2 annual mean. Annual mean NO2 concentration per 1 km cell (µg/m3); thresholds of the 2021 WHO guideline (10) and of the 2030 EU limit value (20). Generated from styles/index.yml by services/style_encodings.py: do not edit, run python -m services.style_encodings. -->
<qgis version="3.22.16-Białowieża" styleCategories="Symbology" labelsEnabled="0">
  <renderer-v2 type="RuleRenderer" symbollevels="0" forceraster="0" enableorderby="0" referencescale="-1">
    <rules key="{354f8a2e-81cc-52d1-8eef-09e908cbdbeb}">
      <rule key="{aed281c9-ccf0-5b43-9d62-ce68c90c1164}" symbol="0" label="Moins de 10 µg/m3 (ligne directrice OMS)" filter="&quot;no2_ugm3&quot; &lt; 10" />
      <rule key="{75f2fae1-b3d2-5a95-9123-97a0c82c06ea}" symbol="1" label="10 à 20 µg/m3" filter="&quot;no2_ugm3&quot; &gt;= 10 AND &quot;no2_ugm3&quot; &lt; 20" />
      <rule key="{84a0bbb3-6c46-570c-b8ea-ab5f015fc56b}" symbol="2" label="20 à 30 µg/m3 (au-delà de la valeur limite UE 2030)" filter="&quot;no2_ugm3&quot; &gt;= 20 AND &quot;no2_ugm3&quot; &lt; 30" />
      <rule key="{4aff4296-bca4-5aa5-aab2-19e0f26620ff}" symbol="3" label="30 à 40 µg/m3" filter="&quot;no2_ugm3&quot; &gt;= 30 AND &quot;no2_ugm3&quot; &lt; 40" />
      <rule key="{33404495-65b7-58bd-8621-49a0d0269959}" symbol="4" label="40 µg/m3 et plus" filter="&quot;no2_ugm3&quot; &gt;= 40" />
    </rules>
    <symbols>
      <symbol name="0" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="80,240,230,153" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="80,240,230,255" type="QString" />
            <Option name="outline_style" value="solid" type="QString" />
            <Option name="outline_width" value="1" type="QString" />
            <Option name="outline_width_unit" value="Pixel" type="QString" />
            <Option name="joinstyle" value="bevel" type="QString" />
          </Option>
        </layer>
      </symbol>
      <symbol name="1" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="80,204,170,153" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="80,204,170,255" type="QString" />
            <Option name="outline_style" value="solid" type="QString" />
            <Option name="outline_width" value="1" type="QString" />
            <Option name="outline_width_unit" value="Pixel" type="QString" />
            <Option name="joinstyle" value="bevel" type="QString" />
          </Option>
        </layer>
      </symbol>
      <symbol name="2" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="240,230,65,153" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="240,230,65,255" type="QString" />
            <Option name="outline_style" value="solid" type="QString" />
            <Option name="outline_width" value="1" type="QString" />
            <Option name="outline_width_unit" value="Pixel" type="QString" />
            <Option name="joinstyle" value="bevel" type="QString" />
          </Option>
        </layer>
      </symbol>
      <symbol name="3" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="255,80,80,153" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="255,80,80,255" type="QString" />
            <Option name="outline_style" value="solid" type="QString" />
            <Option name="outline_width" value="1" type="QString" />
            <Option name="outline_width_unit" value="Pixel" type="QString" />
            <Option name="joinstyle" value="bevel" type="QString" />
          </Option>
        </layer>
      </symbol>
      <symbol name="4" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="150,0,50,153" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="150,0,50,255" type="QString" />
            <Option name="outline_style" value="solid" type="QString" />
            <Option name="outline_width" value="1" type="QString" />
            <Option name="outline_width_unit" value="Pixel" type="QString" />
            <Option name="joinstyle" value="bevel" type="QString" />
          </Option>
        </layer>
      </symbol>
    </symbols>
  </renderer-v2>
  <blendMode>0</blendMode>
  <layerOpacity>1</layerOpacity>
</qgis>
