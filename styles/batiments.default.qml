<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<!-- Bâtiments par usage / Buildings by use. Building footprints by main use (BD TOPO classes). Generated from styles/index.yml by services/style_encodings.py: do not edit, run python -m services.style_encodings. -->
<qgis version="3.22.16-Białowieża" styleCategories="Symbology" labelsEnabled="0">
  <renderer-v2 type="categorizedSymbol" attr="usage" symbollevels="0" forceraster="0" enableorderby="0" referencescale="-1">
    <categories>
      <category render="true" symbol="0" value="Résidentiel" label="Résidentiel" />
      <category render="true" symbol="1" value="Annexe" label="Annexe" />
      <category render="true" symbol="2" value="Commercial et services" label="Commercial et services" />
      <category render="true" symbol="3" value="Industriel" label="Industriel" />
      <category render="true" symbol="4" value="Agricole" label="Agricole" />
      <category render="true" symbol="5" value="Religieux" label="Religieux" />
      <category render="true" symbol="6" value="Sportif" label="Sportif" />
      <category render="true" symbol="7" value="Indifférencié" label="Indifférencié" />
    </categories>
    <symbols>
      <symbol name="0" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="253,187,132,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="253,187,132,255" type="QString" />
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
            <Option name="color" value="217,217,217,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="217,217,217,255" type="QString" />
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
            <Option name="color" value="239,59,44,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="239,59,44,255" type="QString" />
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
            <Option name="color" value="128,125,186,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="128,125,186,255" type="QString" />
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
            <Option name="color" value="161,217,155,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="161,217,155,255" type="QString" />
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
            <Option name="color" value="254,196,79,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="254,196,79,255" type="QString" />
            <Option name="outline_style" value="solid" type="QString" />
            <Option name="outline_width" value="1" type="QString" />
            <Option name="outline_width_unit" value="Pixel" type="QString" />
            <Option name="joinstyle" value="bevel" type="QString" />
          </Option>
        </layer>
      </symbol>
      <symbol name="6" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="66,146,198,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="66,146,198,255" type="QString" />
            <Option name="outline_style" value="solid" type="QString" />
            <Option name="outline_width" value="1" type="QString" />
            <Option name="outline_width_unit" value="Pixel" type="QString" />
            <Option name="joinstyle" value="bevel" type="QString" />
          </Option>
        </layer>
      </symbol>
      <symbol name="7" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="150,150,150,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="150,150,150,255" type="QString" />
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
