<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<!-- Cessions par type d'acquéreur / Land sales by buyer type. Lots sold, by the buyer type of the sale. Generated from styles/index.yml by services/style_encodings.py: do not edit, run python -m services.style_encodings. -->
<qgis version="3.22.16-Białowieża" styleCategories="Symbology" labelsEnabled="0">
  <renderer-v2 type="RuleRenderer" symbollevels="0" forceraster="0" enableorderby="0" referencescale="-1">
    <rules key="{70842fcf-915b-5400-ab21-5cf5052366de}">
      <rule key="{973cc242-10d8-507e-accd-a581071f3554}" symbol="0" label="Entreprise" filter="&quot;acquereur_type&quot; = 'entreprise'" />
      <rule key="{9b2c54b5-80bc-58dc-b7db-8cc34c7d0806}" symbol="1" label="Investisseur immobilier" filter="&quot;acquereur_type&quot; = 'investisseur immobilier'" />
      <rule key="{ff20d30b-5b53-5f15-91ac-55524c439127}" symbol="2" label="Collectivité" filter="&quot;acquereur_type&quot; = 'collectivité'" />
      <rule key="{ac7f24de-7361-5c09-9e6d-9b2bfed8d266}" symbol="3" label="Établissement public" filter="&quot;acquereur_type&quot; = 'établissement public'" />
      <rule key="{2e4c8b78-97f2-5fb3-b306-b96a33aec90b}" symbol="4" label="Autre" filter="&quot;acquereur_type&quot; = 'autre'" />
      <rule key="{027d07f8-6152-565a-981a-d5d91f79e0f1}" symbol="5" label="Non renseigné" filter="&quot;acquereur_type&quot; IS NULL" />
    </rules>
    <symbols>
      <symbol name="0" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="217,95,2,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="217,95,2,255" type="QString" />
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
            <Option name="color" value="117,112,179,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="117,112,179,255" type="QString" />
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
            <Option name="color" value="27,158,119,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="27,158,119,255" type="QString" />
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
            <Option name="color" value="231,41,138,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="231,41,138,255" type="QString" />
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
            <Option name="color" value="102,102,102,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="102,102,102,255" type="QString" />
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
