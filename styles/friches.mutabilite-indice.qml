<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<!-- Friches par indice de mutabilité / Brownfields by mutability index. Mutability index of the most suitable use (field mutabilite_indice, 0-100), Mutafriches potential classes; brownfields without a score are "not assessed". Generated from styles/index.yml by services/style_encodings.py: do not edit, run python -m services.style_encodings. -->
<qgis version="3.22.16-Białowieża" styleCategories="Symbology" labelsEnabled="0">
  <renderer-v2 type="RuleRenderer" symbollevels="0" forceraster="0" enableorderby="0" referencescale="-1">
    <rules key="{8aac32b6-0558-5bd7-a748-a8159fe586a2}">
      <rule key="{62d0938d-2144-5a8e-9589-5d8d6b8b92be}" symbol="0" label="Faible (moins de 40)" filter="&quot;mutabilite_indice&quot; &lt; 40" />
      <rule key="{89498783-c365-5bcf-b304-ea5bb2c2419c}" symbol="1" label="Moyen (40 à 50)" filter="&quot;mutabilite_indice&quot; &gt;= 40 AND &quot;mutabilite_indice&quot; &lt; 50" />
      <rule key="{fc80676a-97ec-5561-b057-b3d72f8a15d2}" symbol="2" label="Bon (50 à 60)" filter="&quot;mutabilite_indice&quot; &gt;= 50 AND &quot;mutabilite_indice&quot; &lt; 60" />
      <rule key="{74a17585-49bd-5b0e-b7c8-1eb2c67be525}" symbol="3" label="Très bon (60 à 70)" filter="&quot;mutabilite_indice&quot; &gt;= 60 AND &quot;mutabilite_indice&quot; &lt; 70" />
      <rule key="{5eda587d-d949-5038-9d0b-722f7fe2748a}" symbol="4" label="Excellent (70 et plus)" filter="&quot;mutabilite_indice&quot; &gt;= 70" />
      <rule key="{ebba1d92-f46e-5e9f-9fc1-b1c1469c7ef5}" symbol="5" label="Non évalué" filter="&quot;mutabilite_indice&quot; IS NULL" />
    </rules>
    <symbols>
      <symbol name="0" type="marker" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="name" value="circle" type="QString" />
            <Option name="color" value="215,25,28,255" type="QString" />
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
            <Option name="color" value="253,174,97,255" type="QString" />
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
            <Option name="color" value="255,255,191,255" type="QString" />
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
            <Option name="color" value="166,217,106,255" type="QString" />
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
            <Option name="color" value="26,150,65,255" type="QString" />
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
