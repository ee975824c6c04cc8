<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<!-- Solutions fondées sur la nature par type / Nature-based solutions by type. Nature-based adaptation solution sheets by type (ADEME Plus fraîche ma ville vocabulary). Generated from styles/index.yml by services/style_encodings.py: do not edit, run python -m services.style_encodings. -->
<qgis version="3.22.16-Białowieża" styleCategories="Symbology" labelsEnabled="0">
  <renderer-v2 type="categorizedSymbol" attr="type_solution" symbollevels="0" forceraster="0" enableorderby="0" referencescale="-1">
    <categories>
      <category render="true" symbol="0" value="noue végétalisée" label="Noue végétalisée" />
      <category render="true" symbol="1" value="désimperméabilisation" label="Désimperméabilisation" />
      <category render="true" symbol="2" value="toiture végétalisée" label="Toiture végétalisée" />
      <category render="true" symbol="3" value="îlot de fraîcheur" label="Îlot de fraîcheur" />
      <category render="true" symbol="4" value="renaturation de friche" label="Renaturation de friche" />
      <category render="true" symbol="5" value="jardin de pluie" label="Jardin de pluie" />
      <category render="true" symbol="6" value="forêt urbaine" label="Forêt urbaine" />
      <category render="true" symbol="7" value="mare / zone humide" label="Mare ou zone humide" />
      <category render="true" symbol="8" value="cour d'école oasis" label="Cour d'école oasis" />
      <category render="true" symbol="9" value="parking perméable" label="Parking perméable" />
    </categories>
    <symbols>
      <symbol name="0" type="marker" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="name" value="circle" type="QString" />
            <Option name="color" value="65,182,196,255" type="QString" />
            <Option name="size" value="12" type="QString" />
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
            <Option name="color" value="194,165,207,255" type="QString" />
            <Option name="size" value="12" type="QString" />
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
            <Option name="color" value="120,198,121,255" type="QString" />
            <Option name="size" value="12" type="QString" />
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
            <Option name="color" value="29,145,192,255" type="QString" />
            <Option name="size" value="12" type="QString" />
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
      <symbol name="4" type="marker" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="name" value="circle" type="QString" />
            <Option name="color" value="140,107,177,255" type="QString" />
            <Option name="size" value="12" type="QString" />
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
      <symbol name="5" type="marker" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="name" value="circle" type="QString" />
            <Option name="color" value="127,205,187,255" type="QString" />
            <Option name="size" value="12" type="QString" />
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
      <symbol name="6" type="marker" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="name" value="circle" type="QString" />
            <Option name="color" value="0,104,55,255" type="QString" />
            <Option name="size" value="12" type="QString" />
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
      <symbol name="7" type="marker" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="name" value="circle" type="QString" />
            <Option name="color" value="37,52,148,255" type="QString" />
            <Option name="size" value="12" type="QString" />
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
      <symbol name="8" type="marker" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="name" value="circle" type="QString" />
            <Option name="color" value="254,153,41,255" type="QString" />
            <Option name="size" value="12" type="QString" />
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
      <symbol name="9" type="marker" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="name" value="circle" type="QString" />
            <Option name="color" value="150,150,150,255" type="QString" />
            <Option name="size" value="12" type="QString" />
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
