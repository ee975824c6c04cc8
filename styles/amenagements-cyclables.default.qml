<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<!-- Aménagements cyclables par type / Cycle facilities by type. Facility type of the national etalab schema: right side (ame_d), or left side (ame_g) when the right side has none. Generated from styles/index.yml by services/style_encodings.py: do not edit, run python -m services.style_encodings. -->
<qgis version="3.22.16-Białowieża" styleCategories="Symbology" labelsEnabled="0">
  <renderer-v2 type="categorizedSymbol" attr="CASE WHEN &quot;ame_d&quot; = 'AUCUN' THEN &quot;ame_g&quot; ELSE &quot;ame_d&quot; END" symbollevels="0" forceraster="0" enableorderby="0" referencescale="-1">
    <categories>
      <category render="true" symbol="0" value="PISTE CYCLABLE" label="Piste cyclable" />
      <category render="true" symbol="1" value="DOUBLE SENS CYCLABLE PISTE" label="Double sens cyclable en piste" />
      <category render="true" symbol="2" value="BANDE CYCLABLE" label="Bande cyclable" />
      <category render="true" symbol="3" value="DOUBLE SENS CYCLABLE BANDE" label="Double sens cyclable en bande" />
      <category render="true" symbol="4" value="DOUBLE SENS CYCLABLE NON MATERIALISE" label="Double sens cyclable non matérialisé" />
      <category render="true" symbol="5" value="VOIE VERTE" label="Voie verte" />
      <category render="true" symbol="6" value="VELO RUE" label="Vélorue" />
      <category render="true" symbol="7" value="COULOIR BUS+VELO" label="Couloir bus et vélo" />
      <category render="true" symbol="8" value="RAMPE" label="Rampe" />
      <category render="true" symbol="9" value="GOULOTTE" label="Goulotte" />
      <category render="true" symbol="10" value="AMENAGEMENT MIXTE PIETON VELO HORS VOIE VERTE" label="Aménagement mixte piétons et vélos" />
      <category render="true" symbol="11" value="CHAUSSEE A VOIE CENTRALE BANALISEE" label="Chaussée à voie centrale banalisée" />
      <category render="true" symbol="12" value="ACCOTEMENT REVETU HORS CVCB" label="Accotement revêtu" />
      <category render="true" symbol="13" value="AUTRE" label="Autre aménagement" />
      <category render="true" symbol="14" value="AUCUN" label="Aucun aménagement" />
    </categories>
    <symbols>
      <symbol name="0" type="line" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="line_color" value="0,109,44,255" type="QString" />
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
            <Option name="line_color" value="65,171,93,255" type="QString" />
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
            <Option name="line_color" value="33,113,181,255" type="QString" />
            <Option name="line_width" value="2.5" type="QString" />
            <Option name="line_width_unit" value="Pixel" type="QString" />
            <Option name="line_style" value="solid" type="QString" />
            <Option name="capstyle" value="round" type="QString" />
            <Option name="joinstyle" value="round" type="QString" />
          </Option>
        </layer>
      </symbol>
      <symbol name="3" type="line" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="line_color" value="107,174,214,255" type="QString" />
            <Option name="line_width" value="2.5" type="QString" />
            <Option name="line_width_unit" value="Pixel" type="QString" />
            <Option name="line_style" value="solid" type="QString" />
            <Option name="capstyle" value="round" type="QString" />
            <Option name="joinstyle" value="round" type="QString" />
          </Option>
        </layer>
      </symbol>
      <symbol name="4" type="line" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="line_color" value="158,202,225,255" type="QString" />
            <Option name="line_width" value="2.5" type="QString" />
            <Option name="line_width_unit" value="Pixel" type="QString" />
            <Option name="line_style" value="solid" type="QString" />
            <Option name="capstyle" value="round" type="QString" />
            <Option name="joinstyle" value="round" type="QString" />
          </Option>
        </layer>
      </symbol>
      <symbol name="5" type="line" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="line_color" value="140,81,10,255" type="QString" />
            <Option name="line_width" value="2.5" type="QString" />
            <Option name="line_width_unit" value="Pixel" type="QString" />
            <Option name="line_style" value="solid" type="QString" />
            <Option name="capstyle" value="round" type="QString" />
            <Option name="joinstyle" value="round" type="QString" />
          </Option>
        </layer>
      </symbol>
      <symbol name="6" type="line" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="line_color" value="231,41,138,255" type="QString" />
            <Option name="line_width" value="2.5" type="QString" />
            <Option name="line_width_unit" value="Pixel" type="QString" />
            <Option name="line_style" value="solid" type="QString" />
            <Option name="capstyle" value="round" type="QString" />
            <Option name="joinstyle" value="round" type="QString" />
          </Option>
        </layer>
      </symbol>
      <symbol name="7" type="line" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="line_color" value="203,24,29,255" type="QString" />
            <Option name="line_width" value="2.5" type="QString" />
            <Option name="line_width_unit" value="Pixel" type="QString" />
            <Option name="line_style" value="solid" type="QString" />
            <Option name="capstyle" value="round" type="QString" />
            <Option name="joinstyle" value="round" type="QString" />
          </Option>
        </layer>
      </symbol>
      <symbol name="8" type="line" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="line_color" value="115,115,115,255" type="QString" />
            <Option name="line_width" value="2.5" type="QString" />
            <Option name="line_width_unit" value="Pixel" type="QString" />
            <Option name="line_style" value="solid" type="QString" />
            <Option name="capstyle" value="round" type="QString" />
            <Option name="joinstyle" value="round" type="QString" />
          </Option>
        </layer>
      </symbol>
      <symbol name="9" type="line" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="line_color" value="150,150,150,255" type="QString" />
            <Option name="line_width" value="2.5" type="QString" />
            <Option name="line_width_unit" value="Pixel" type="QString" />
            <Option name="line_style" value="solid" type="QString" />
            <Option name="capstyle" value="round" type="QString" />
            <Option name="joinstyle" value="round" type="QString" />
          </Option>
        </layer>
      </symbol>
      <symbol name="10" type="line" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="line_color" value="223,194,125,255" type="QString" />
            <Option name="line_width" value="2.5" type="QString" />
            <Option name="line_width_unit" value="Pixel" type="QString" />
            <Option name="line_style" value="solid" type="QString" />
            <Option name="capstyle" value="round" type="QString" />
            <Option name="joinstyle" value="round" type="QString" />
          </Option>
        </layer>
      </symbol>
      <symbol name="11" type="line" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="line_color" value="253,141,60,255" type="QString" />
            <Option name="line_width" value="2.5" type="QString" />
            <Option name="line_width_unit" value="Pixel" type="QString" />
            <Option name="line_style" value="solid" type="QString" />
            <Option name="capstyle" value="round" type="QString" />
            <Option name="joinstyle" value="round" type="QString" />
          </Option>
        </layer>
      </symbol>
      <symbol name="12" type="line" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="line_color" value="253,208,162,255" type="QString" />
            <Option name="line_width" value="2.5" type="QString" />
            <Option name="line_width_unit" value="Pixel" type="QString" />
            <Option name="line_style" value="solid" type="QString" />
            <Option name="capstyle" value="round" type="QString" />
            <Option name="joinstyle" value="round" type="QString" />
          </Option>
        </layer>
      </symbol>
      <symbol name="13" type="line" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="line_color" value="84,39,143,255" type="QString" />
            <Option name="line_width" value="2.5" type="QString" />
            <Option name="line_width_unit" value="Pixel" type="QString" />
            <Option name="line_style" value="solid" type="QString" />
            <Option name="capstyle" value="round" type="QString" />
            <Option name="joinstyle" value="round" type="QString" />
          </Option>
        </layer>
      </symbol>
      <symbol name="14" type="line" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="line_color" value="217,217,217,255" type="QString" />
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
