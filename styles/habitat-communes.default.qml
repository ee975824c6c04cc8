<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<!-- Taux de logements vacants par commune / Vacant dwellings per municipality. Share of vacant dwellings (field taux_logements_vacants, %, modelled; demonstration data). Generated from styles/index.yml by services/style_encodings.py: do not edit, run python -m services.style_encodings. -->
<qgis version="3.22.16-Białowieża" styleCategories="Symbology" labelsEnabled="0">
  <renderer-v2 type="RuleRenderer" symbollevels="0" forceraster="0" enableorderby="0" referencescale="-1">
    <rules key="{ba09ce65-da21-550c-bc67-d61be1948311}">
      <rule key="{25ae37a0-b1b7-518f-990d-ed1ba47dbe8f}" symbol="0" label="Moins de 7 %" filter="&quot;taux_logements_vacants&quot; &lt; 7" />
      <rule key="{d932b374-7259-58fe-8425-a1bb189e8dbd}" symbol="1" label="7 à 8 %" filter="&quot;taux_logements_vacants&quot; &gt;= 7 AND &quot;taux_logements_vacants&quot; &lt; 8" />
      <rule key="{3214f221-18fa-5efa-aaf1-4be8122a4704}" symbol="2" label="8 à 10 %" filter="&quot;taux_logements_vacants&quot; &gt;= 8 AND &quot;taux_logements_vacants&quot; &lt; 10" />
      <rule key="{b101d7dc-d780-5e61-901b-e1638192e374}" symbol="3" label="10 % et plus" filter="&quot;taux_logements_vacants&quot; &gt;= 10" />
    </rules>
    <symbols>
      <symbol name="0" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="254,240,217,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="254,240,217,255" type="QString" />
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
            <Option name="color" value="253,204,138,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="253,204,138,255" type="QString" />
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
            <Option name="color" value="252,141,89,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="252,141,89,255" type="QString" />
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
            <Option name="color" value="215,48,31,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="215,48,31,255" type="QString" />
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
