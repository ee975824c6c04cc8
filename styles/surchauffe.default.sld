<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated from styles/index.yml by services/style_encodings.py: do not edit, run python -m services.style_encodings. -->
<StyledLayerDescriptor xmlns="http://www.opengis.net/sld" xmlns:se="http://www.opengis.net/se" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="1.1.0" xsi:schemaLocation="http://www.opengis.net/sld http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd">
  <NamedLayer>
    <se:Name>surchauffe</se:Name>
    <UserStyle>
      <se:Name>default</se:Name>
      <se:Description>
        <se:Title>Surchauffe urbaine estivale</se:Title>
        <se:Abstract>Summer urban overheating. Land-surface temperature anomaly (°C), the diverging ramp shared by every output. / Anomalie de température de surface (°C), rampe divergente commune à toutes les sorties.</se:Abstract>
      </se:Description>
      <se:CoverageStyle>
        <se:Rule>
          <se:Name>Anomalie de température de surface estivale (°C)</se:Name>
          <se:Description>
            <se:Title>Anomalie de température de surface estivale (°C)</se:Title>
            <se:Abstract>Summer land-surface temperature anomaly (°C)</se:Abstract>
          </se:Description>
          <se:RasterSymbolizer>
            <se:Opacity>1</se:Opacity>
            <se:ColorMap>
              <se:Interpolate fallbackValue="#00000000" mode="linear" method="color">
                <se:LookupValue>Rasterdata</se:LookupValue>
                <se:InterpolationPoint>
                  <se:Data>-4</se:Data>
                  <se:Value>#2c7bb6</se:Value>
                </se:InterpolationPoint>
                <se:InterpolationPoint>
                  <se:Data>-2</se:Data>
                  <se:Value>#abd9e9</se:Value>
                </se:InterpolationPoint>
                <se:InterpolationPoint>
                  <se:Data>0</se:Data>
                  <se:Value>#ffffbf</se:Value>
                </se:InterpolationPoint>
                <se:InterpolationPoint>
                  <se:Data>2</se:Data>
                  <se:Value>#fdae61</se:Value>
                </se:InterpolationPoint>
                <se:InterpolationPoint>
                  <se:Data>4</se:Data>
                  <se:Value>#f46d43</se:Value>
                </se:InterpolationPoint>
                <se:InterpolationPoint>
                  <se:Data>6</se:Data>
                  <se:Value>#d73027</se:Value>
                </se:InterpolationPoint>
                <se:InterpolationPoint>
                  <se:Data>8</se:Data>
                  <se:Value>#a50026</se:Value>
                </se:InterpolationPoint>
              </se:Interpolate>
            </se:ColorMap>
          </se:RasterSymbolizer>
        </se:Rule>
      </se:CoverageStyle>
    </UserStyle>
  </NamedLayer>
</StyledLayerDescriptor>
