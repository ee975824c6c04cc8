<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<!-- Surchauffe urbaine estivale / Summer urban overheating. Land-surface temperature anomaly (°C), the diverging ramp shared by every output. Generated from styles/index.yml by services/style_encodings.py: do not edit, run python -m services.style_encodings. -->
<qgis version="3.22.16-Białowieża" styleCategories="Symbology">
  <pipe>
    <rasterrenderer type="singlebandpseudocolor" band="1" opacity="1" alphaBand="-1" nodataColor="" classificationMin="-4" classificationMax="8">
      <minMaxOrigin>
        <limits>None</limits>
        <extent>WholeRaster</extent>
      </minMaxOrigin>
      <rastershader>
        <colorrampshader colorRampType="INTERPOLATED" classificationMode="1" minimumValue="-4" maximumValue="8" clip="0" labelPrecision="0">
          <item value="-4" color="#2c7bb6" alpha="255" label="≤ -4 °C (plus frais)" />
          <item value="-2" color="#abd9e9" alpha="255" label="-2 °C" />
          <item value="0" color="#ffffbf" alpha="255" label="0 °C (moyenne du territoire)" />
          <item value="2" color="#fdae61" alpha="255" label="+2 °C" />
          <item value="4" color="#f46d43" alpha="255" label="+4 °C (surchauffe)" />
          <item value="6" color="#d73027" alpha="255" label="+6 °C" />
          <item value="8" color="#a50026" alpha="255" label="≥ +8 °C (forte surchauffe)" />
        </colorrampshader>
      </rastershader>
    </rasterrenderer>
    <brightnesscontrast brightness="0" contrast="0" gamma="1" />
    <huesaturation saturation="0" grayscaleMode="0" invertColors="0" colorizeOn="0" colorizeRed="255" colorizeGreen="128" colorizeBlue="128" colorizeStrength="100" />
    <rasterresampler maxOversampling="2" />
  </pipe>
  <blendMode>0</blendMode>
</qgis>
