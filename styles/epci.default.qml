<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<!-- Intercommunalités (EPCI) / Inter-municipal authorities (EPCI). Outline of the 4 EPCI, one colour each (short name, field epci_nom_court). Generated from styles/index.yml by services/style_encodings.py: do not edit, run python -m services.style_encodings. -->
<qgis version="3.22.16-Białowieża" styleCategories="Symbology" labelsEnabled="0">
  <renderer-v2 type="categorizedSymbol" attr="epci_nom_court" symbollevels="0" forceraster="0" enableorderby="0" referencescale="-1">
    <categories>
      <category render="true" symbol="0" value="CA de Béthune-Bruay, Artois-Lys Romane" label="CA de Béthune-Bruay, Artois-Lys Romane" />
      <category render="true" symbol="1" value="CA de Lens - Liévin" label="CA de Lens - Liévin" />
      <category render="true" symbol="2" value="CC du Ternois" label="CC du Ternois" />
      <category render="true" symbol="3" value="CC des 7 Vallées" label="CC des 7 Vallées" />
    </categories>
    <symbols>
      <symbol name="0" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="27,158,119,0" type="QString" />
            <Option name="style" value="no" type="QString" />
            <Option name="outline_color" value="27,158,119,255" type="QString" />
            <Option name="outline_style" value="solid" type="QString" />
            <Option name="outline_width" value="2.5" type="QString" />
            <Option name="outline_width_unit" value="Pixel" type="QString" />
            <Option name="joinstyle" value="round" type="QString" />
          </Option>
        </layer>
      </symbol>
      <symbol name="1" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="217,95,2,0" type="QString" />
            <Option name="style" value="no" type="QString" />
            <Option name="outline_color" value="217,95,2,255" type="QString" />
            <Option name="outline_style" value="solid" type="QString" />
            <Option name="outline_width" value="2.5" type="QString" />
            <Option name="outline_width_unit" value="Pixel" type="QString" />
            <Option name="joinstyle" value="round" type="QString" />
          </Option>
        </layer>
      </symbol>
      <symbol name="2" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="117,112,179,0" type="QString" />
            <Option name="style" value="no" type="QString" />
            <Option name="outline_color" value="117,112,179,255" type="QString" />
            <Option name="outline_style" value="solid" type="QString" />
            <Option name="outline_width" value="2.5" type="QString" />
            <Option name="outline_width_unit" value="Pixel" type="QString" />
            <Option name="joinstyle" value="round" type="QString" />
          </Option>
        </layer>
      </symbol>
      <symbol name="3" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="231,41,138,0" type="QString" />
            <Option name="style" value="no" type="QString" />
            <Option name="outline_color" value="231,41,138,255" type="QString" />
            <Option name="outline_style" value="solid" type="QString" />
            <Option name="outline_width" value="2.5" type="QString" />
            <Option name="outline_width_unit" value="Pixel" type="QString" />
            <Option name="joinstyle" value="round" type="QString" />
          </Option>
        </layer>
      </symbol>
    </symbols>
  </renderer-v2>
  <blendMode>0</blendMode>
  <layerOpacity>1</layerOpacity>
</qgis>
