<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<!-- Cavités souterraines par type / Underground cavities by type. Underground cavities in the manner of BDCavité (demonstration data). Generated from styles/index.yml by services/style_encodings.py: do not edit, run python -m services.style_encodings. -->
<qgis version="3.22.16-Białowieża" styleCategories="Symbology" labelsEnabled="0">
  <renderer-v2 type="categorizedSymbol" attr="type" symbollevels="0" forceraster="0" enableorderby="0" referencescale="-1">
    <categories>
      <category render="true" symbol="0" value="carrière souterraine" label="Carrière souterraine" />
      <category render="true" symbol="1" value="ouvrage militaire" label="Ouvrage militaire" />
      <category render="true" symbol="2" value="cavité naturelle" label="Cavité naturelle" />
      <category render="true" symbol="3" value="indéterminé" label="Indéterminé" />
    </categories>
    <symbols>
      <symbol name="0" type="marker" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="name" value="circle" type="QString" />
            <Option name="color" value="140,81,10,255" type="QString" />
            <Option name="size" value="8" type="QString" />
            <Option name="size_unit" value="Pixel" type="QString" />
            <Option name="outline_color" value="255,255,255,255" type="QString" />
            <Option name="outline_style" value="solid" type="QString" />
            <Option name="outline_width" value="1" type="QString" />
            <Option name="outline_width_unit" value="Pixel" type="QString" />
            <Option name="scale_method" value="diameter" type="QString" />
            <Option name="joinstyle" value="bevel" type="QString" />
          </Option>
        </layer>
      </symbol>
      <symbol name="1" type="marker" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="name" value="circle" type="QString" />
            <Option name="color" value="84,48,5,255" type="QString" />
            <Option name="size" value="8" type="QString" />
            <Option name="size_unit" value="Pixel" type="QString" />
            <Option name="outline_color" value="255,255,255,255" type="QString" />
            <Option name="outline_style" value="solid" type="QString" />
            <Option name="outline_width" value="1" type="QString" />
            <Option name="outline_width_unit" value="Pixel" type="QString" />
            <Option name="scale_method" value="diameter" type="QString" />
            <Option name="joinstyle" value="bevel" type="QString" />
          </Option>
        </layer>
      </symbol>
      <symbol name="2" type="marker" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="name" value="circle" type="QString" />
            <Option name="color" value="191,129,45,255" type="QString" />
            <Option name="size" value="8" type="QString" />
            <Option name="size_unit" value="Pixel" type="QString" />
            <Option name="outline_color" value="255,255,255,255" type="QString" />
            <Option name="outline_style" value="solid" type="QString" />
            <Option name="outline_width" value="1" type="QString" />
            <Option name="outline_width_unit" value="Pixel" type="QString" />
            <Option name="scale_method" value="diameter" type="QString" />
            <Option name="joinstyle" value="bevel" type="QString" />
          </Option>
        </layer>
      </symbol>
      <symbol name="3" type="marker" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="name" value="circle" type="QString" />
            <Option name="color" value="150,150,150,255" type="QString" />
            <Option name="size" value="8" type="QString" />
            <Option name="size_unit" value="Pixel" type="QString" />
            <Option name="outline_color" value="255,255,255,255" type="QString" />
            <Option name="outline_style" value="solid" type="QString" />
            <Option name="outline_width" value="1" type="QString" />
            <Option name="outline_width_unit" value="Pixel" type="QString" />
            <Option name="scale_method" value="diameter" type="QString" />
            <Option name="joinstyle" value="bevel" type="QString" />
          </Option>
        </layer>
      </symbol>
    </symbols>
  </renderer-v2>
  <blendMode>0</blendMode>
  <layerOpacity>1</layerOpacity>
</qgis>
