<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<!-- Friches par usage le plus favorable (mutabilité) / Brownfields by most suitable use (mutability). Best-rated use from the mutability process (field mutabilite_usage, Mutafriches method); brownfields without a score yet are "not assessed". Generated from styles/index.yml by services/style_encodings.py: do not edit, run python -m services.style_encodings. -->
<qgis version="3.22.16-Białowieża" styleCategories="Symbology" labelsEnabled="0">
  <renderer-v2 type="RuleRenderer" symbollevels="0" forceraster="0" enableorderby="0" referencescale="-1">
    <rules key="{3247cf4f-a618-5aab-83b7-86b845f0eaae}">
      <rule key="{9fe15f28-3444-55b7-96e7-4920c92ad7ea}" symbol="0" label="Résidentiel ou mixte" filter="&quot;mutabilite_usage&quot; = 'residentiel'" />
      <rule key="{bfec1172-a5cd-551c-852f-c4eebad6e516}" symbol="1" label="Équipements publics" filter="&quot;mutabilite_usage&quot; = 'equipements'" />
      <rule key="{acb1905a-4493-5a9e-a4de-9f1317fb9604}" symbol="2" label="Culturel, touristique" filter="&quot;mutabilite_usage&quot; = 'culture'" />
      <rule key="{cf356123-bbdc-5ef9-b1a2-1c97b10e5a0f}" symbol="3" label="Tertiaire" filter="&quot;mutabilite_usage&quot; = 'tertiaire'" />
      <rule key="{f89ab2ef-0602-5cd8-a44f-a46d50b9d536}" symbol="4" label="Industriel, logistique" filter="&quot;mutabilite_usage&quot; = 'industrie'" />
      <rule key="{fe3b8a55-7099-53d8-9d19-dbaddf644852}" symbol="5" label="Renaturation" filter="&quot;mutabilite_usage&quot; = 'renaturation'" />
      <rule key="{442cc12d-2f01-5f5a-968e-da334f54050f}" symbol="6" label="Photovoltaïque au sol" filter="&quot;mutabilite_usage&quot; = 'photovoltaique'" />
      <rule key="{1bd7c010-0977-5f82-92fe-8c73917c1cb5}" symbol="7" label="Non évalué" filter="&quot;mutabilite_usage&quot; IS NULL" />
    </rules>
    <symbols>
      <symbol name="0" type="marker" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="name" value="circle" type="QString" />
            <Option name="color" value="227,74,51,255" type="QString" />
            <Option name="size" value="10" type="QString" />
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
            <Option name="color" value="117,107,177,255" type="QString" />
            <Option name="size" value="10" type="QString" />
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
            <Option name="color" value="221,52,151,255" type="QString" />
            <Option name="size" value="10" type="QString" />
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
            <Option name="color" value="49,130,189,255" type="QString" />
            <Option name="size" value="10" type="QString" />
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
            <Option name="color" value="140,81,10,255" type="QString" />
            <Option name="size" value="10" type="QString" />
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
            <Option name="color" value="49,163,84,255" type="QString" />
            <Option name="size" value="10" type="QString" />
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
            <Option name="color" value="254,196,79,255" type="QString" />
            <Option name="size" value="10" type="QString" />
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
            <Option name="color" value="189,189,189,255" type="QString" />
            <Option name="size" value="10" type="QString" />
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
