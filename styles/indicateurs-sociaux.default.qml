<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<!-- Taux de pauvreté par commune / Poverty rate per municipality. Poverty rate (field taux_pauvrete_pct, %, modelled; demonstration data), classes of the thresholds of societal risk R3. Generated from styles/index.yml by services/style_encodings.py: do not edit, run python -m services.style_encodings. -->
<qgis version="3.22.16-Białowieża" styleCategories="Symbology" labelsEnabled="0">
  <renderer-v2 type="RuleRenderer" symbollevels="0" forceraster="0" enableorderby="0" referencescale="-1">
    <rules key="{85d2f567-85af-563a-a4e9-546e222ba209}">
      <rule key="{b771ee6a-b0e5-533e-a120-01b431fe86c5}" symbol="0" label="Moins de 12 %" filter="&quot;taux_pauvrete_pct&quot; &lt; 12" />
      <rule key="{22a4e263-8be1-5f60-b161-374af0224a18}" symbol="1" label="12 à 18 %" filter="&quot;taux_pauvrete_pct&quot; &gt;= 12 AND &quot;taux_pauvrete_pct&quot; &lt; 18" />
      <rule key="{a52b8b6e-d8fb-57d1-8da3-e9c11965ca77}" symbol="2" label="18 à 25 %" filter="&quot;taux_pauvrete_pct&quot; &gt;= 18 AND &quot;taux_pauvrete_pct&quot; &lt; 25" />
      <rule key="{a92bdd6f-1742-59ed-8945-a577103902c7}" symbol="3" label="25 % et plus" filter="&quot;taux_pauvrete_pct&quot; &gt;= 25" />
    </rules>
    <symbols>
      <symbol name="0" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="242,240,247,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="242,240,247,255" type="QString" />
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
            <Option name="color" value="203,201,226,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="203,201,226,255" type="QString" />
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
      <symbol name="3" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="106,81,163,178" type="QString" />
            <Option name="style" value="solid" type="QString" />
            <Option name="outline_color" value="106,81,163,255" type="QString" />
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
