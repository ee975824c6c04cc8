<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<!-- Zones d'activités par surface disponible / Business parks by available area. Available area for sale (field surface_disponible_ha, CNIG SITE-ECO standard). Generated from styles/index.yml by services/style_encodings.py: do not edit, run python -m services.style_encodings. -->
<qgis version="3.22.16-Białowieża" styleCategories="Symbology" labelsEnabled="0">
  <renderer-v2 type="RuleRenderer" symbollevels="0" forceraster="0" enableorderby="0" referencescale="-1">
    <rules key="{66d50738-1c03-5732-8f5c-df2fad0ce912}">
      <rule key="{612b9b58-c243-5416-9cd2-1d8e5385df60}" symbol="0" label="Moins de 1 ha" filter="&quot;surface_disponible_ha&quot; &lt; 1" />
      <rule key="{c7150f04-63bb-5810-9d7d-8f06dcafcafe}" symbol="1" label="1 à 5 ha" filter="&quot;surface_disponible_ha&quot; &gt;= 1 AND &quot;surface_disponible_ha&quot; &lt; 5" />
      <rule key="{35419824-096c-545c-81e0-54c58bedae3c}" symbol="2" label="5 à 10 ha" filter="&quot;surface_disponible_ha&quot; &gt;= 5 AND &quot;surface_disponible_ha&quot; &lt; 10" />
      <rule key="{b0694ab8-c336-5f81-902a-f030ee50e6f2}" symbol="3" label="10 à 25 ha" filter="&quot;surface_disponible_ha&quot; &gt;= 10 AND &quot;surface_disponible_ha&quot; &lt; 25" />
      <rule key="{b503624f-846a-56dd-b093-ec63fce39187}" symbol="4" label="25 ha et plus" filter="&quot;surface_disponible_ha&quot; &gt;= 25" />
      <rule key="{c14a9213-159e-5e5f-b120-2046d45368ae}" symbol="5" label="Non renseignée" filter="&quot;surface_disponible_ha&quot; IS NULL" />
    </rules>
    <symbols>
      <symbol name="0" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="237,248,233,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="237,248,233,255" type="QString" />
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
            <Option name="color" value="186,228,179,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="186,228,179,255" type="QString" />
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
            <Option name="color" value="116,196,118,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="116,196,118,255" type="QString" />
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
            <Option name="color" value="49,163,84,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="49,163,84,255" type="QString" />
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
            <Option name="color" value="0,109,44,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="0,109,44,255" type="QString" />
            <Option name="outline_style" value="solid" type="QString" />
            <Option name="outline_width" value="1" type="QString" />
            <Option name="outline_width_unit" value="Pixel" type="QString" />
            <Option name="joinstyle" value="bevel" type="QString" />
          </Option>
        </layer>
      </symbol>
      <symbol name="5" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="189,189,189,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="189,189,189,255" type="QString" />
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
