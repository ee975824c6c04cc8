<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<!-- Lots des zones d'activités par statut / Business park lots by status. Status of each lot (available, reserved, sold, occupied), kept up to date by the sales. Generated from styles/index.yml by services/style_encodings.py: do not edit, run python -m services.style_encodings. -->
<qgis version="3.22.16-Białowieża" styleCategories="Symbology" labelsEnabled="0">
  <renderer-v2 type="RuleRenderer" symbollevels="0" forceraster="0" enableorderby="0" referencescale="-1">
    <rules key="{8e750a1d-5100-5196-95c7-d0599d796108}">
      <rule key="{66b032ca-d44c-5256-b964-d5a3a607e274}" symbol="0" label="Disponible" filter="&quot;statut&quot; = 'disponible'" />
      <rule key="{3ca62623-5d44-5417-9165-c78df766ffe6}" symbol="1" label="Réservé" filter="&quot;statut&quot; = 'réservé'" />
      <rule key="{0c960a17-2d8e-5894-859f-e311c7386860}" symbol="2" label="Cédé (non encore occupé)" filter="&quot;statut&quot; = 'cédé'" />
      <rule key="{c7556062-94d3-5d29-ad60-42383bdbe62c}" symbol="3" label="Occupé" filter="&quot;statut&quot; = 'occupé'" />
      <rule key="{d3437024-a568-52c7-80de-f59429ec2000}" symbol="4" label="Non renseigné" filter="&quot;statut&quot; IS NULL" />
    </rules>
    <symbols>
      <symbol name="0" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="26,152,80,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="26,152,80,255" type="QString" />
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
            <Option name="color" value="254,224,139,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="254,224,139,255" type="QString" />
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
            <Option name="color" value="123,50,148,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="123,50,148,255" type="QString" />
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
            <Option name="color" value="189,189,189,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="189,189,189,255" type="QString" />
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
