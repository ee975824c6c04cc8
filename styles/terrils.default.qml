<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<!-- Terrils par périmètre UNESCO / Slag heaps by UNESCO perimeter. Slag heaps of the World Heritage property and of its buffer zone. Generated from styles/index.yml by services/style_encodings.py: do not edit, run python -m services.style_encodings. -->
<qgis version="3.22.16-Białowieża" styleCategories="Symbology" labelsEnabled="0">
  <renderer-v2 type="categorizedSymbol" attr="perimetre_unesco" symbollevels="0" forceraster="0" enableorderby="0" referencescale="-1">
    <categories>
      <category render="true" symbol="0" value="bien inscrit" label="Bien inscrit UNESCO" />
      <category render="true" symbol="1" value="zone tampon" label="Zone tampon" />
    </categories>
    <symbols>
      <symbol name="0" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="84,39,143,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="84,39,143,255" type="QString" />
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
            <Option name="color" value="158,154,200,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="158,154,200,255" type="QString" />
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
