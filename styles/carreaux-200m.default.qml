<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<!-- Habitants par carreau de 200 m / Inhabitants per 200 m cell. Population of the 200 m cells (field ind, demonstration in the Filosofi shape). Generated from styles/index.yml by services/style_encodings.py: do not edit, run python -m services.style_encodings. -->
<qgis version="3.22.16-Białowieża" styleCategories="Symbology" labelsEnabled="0">
  <renderer-v2 type="RuleRenderer" symbollevels="0" forceraster="0" enableorderby="0" referencescale="-1">
    <rules key="{ea3edcc5-e01a-546d-88b1-b49b8edc9ed1}">
      <rule key="{043c6c0f-872d-5c42-8853-eca4a65f39da}" symbol="0" label="Moins de 10" filter="&quot;ind&quot; &lt; 10" />
      <rule key="{51b4d5c4-8ccf-5750-95d2-a190bd7357ab}" symbol="1" label="10 à 30" filter="&quot;ind&quot; &gt;= 10 AND &quot;ind&quot; &lt; 30" />
      <rule key="{8d071392-9ded-50de-8c37-85da887d0007}" symbol="2" label="30 à 80" filter="&quot;ind&quot; &gt;= 30 AND &quot;ind&quot; &lt; 80" />
      <rule key="{f38459ce-b84f-53e3-80ed-951af0661cbe}" symbol="3" label="80 et plus" filter="&quot;ind&quot; &gt;= 80" />
    </rules>
    <symbols>
      <symbol name="0" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="254,229,217,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="254,229,217,255" type="QString" />
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
            <Option name="color" value="252,174,145,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="252,174,145,255" type="QString" />
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
            <Option name="color" value="251,106,74,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="251,106,74,255" type="QString" />
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
            <Option name="color" value="203,24,29,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="203,24,29,255" type="QString" />
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
