<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<!-- Réseau routier principal par catégorie / Main roads by category. Motorways, national and main departmental roads (demonstration data). Generated from styles/index.yml by services/style_encodings.py: do not edit, run python -m services.style_encodings. -->
<qgis version="3.22.16-Białowieża" styleCategories="Symbology" labelsEnabled="0">
  <renderer-v2 type="categorizedSymbol" attr="categorie" symbollevels="0" forceraster="0" enableorderby="0" referencescale="-1">
    <categories>
      <category render="true" symbol="0" value="autoroute" label="Autoroute" />
      <category render="true" symbol="1" value="route nationale" label="Route nationale" />
      <category render="true" symbol="2" value="route départementale" label="Route départementale" />
    </categories>
    <symbols>
      <symbol name="0" type="line" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="line_color" value="227,26,28,255" type="QString" />
            <Option name="line_width" value="2.5" type="QString" />
            <Option name="line_width_unit" value="Pixel" type="QString" />
            <Option name="line_style" value="solid" type="QString" />
            <Option name="capstyle" value="round" type="QString" />
            <Option name="joinstyle" value="round" type="QString" />
          </Option>
        </layer>
      </symbol>
      <symbol name="1" type="line" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="line_color" value="255,127,0,255" type="QString" />
            <Option name="line_width" value="2.5" type="QString" />
            <Option name="line_width_unit" value="Pixel" type="QString" />
            <Option name="line_style" value="solid" type="QString" />
            <Option name="capstyle" value="round" type="QString" />
            <Option name="joinstyle" value="round" type="QString" />
          </Option>
        </layer>
      </symbol>
      <symbol name="2" type="line" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="line_color" value="253,191,111,255" type="QString" />
            <Option name="line_width" value="2.5" type="QString" />
            <Option name="line_width_unit" value="Pixel" type="QString" />
            <Option name="line_style" value="solid" type="QString" />
            <Option name="capstyle" value="round" type="QString" />
            <Option name="joinstyle" value="round" type="QString" />
          </Option>
        </layer>
      </symbol>
    </symbols>
  </renderer-v2>
  <blendMode>0</blendMode>
  <layerOpacity>1</layerOpacity>
</qgis>
