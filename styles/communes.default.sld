<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated from styles/index.yml by services/style_encodings.py: do not edit, run python -m services.style_encodings. -->
<StyledLayerDescriptor xmlns="http://www.opengis.net/sld" xmlns:se="http://www.opengis.net/se" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="1.1.0" xsi:schemaLocation="http://www.opengis.net/sld http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd">
  <NamedLayer>
    <se:Name>communes</se:Name>
    <UserStyle>
      <se:Name>default</se:Name>
      <se:Description>
        <se:Title>Limites communales</se:Title>
        <se:Abstract>Municipal boundaries. Outline of the 305 municipalities (ADMIN EXPRESS), no fill. / Contour des 305 communes (ADMIN EXPRESS), sans remplissage.</se:Abstract>
      </se:Description>
      <se:FeatureTypeStyle>
        <se:Rule>
          <se:Name>Commune</se:Name>
          <se:Description>
            <se:Title>Commune</se:Title>
            <se:Abstract>Municipality</se:Abstract>
          </se:Description>
          <se:PolygonSymbolizer>
            <se:Stroke>
              <se:SvgParameter name="stroke">#6e6e6e</se:SvgParameter>
              <se:SvgParameter name="stroke-width">0.8</se:SvgParameter>
              <se:SvgParameter name="stroke-linejoin">round</se:SvgParameter>
            </se:Stroke>
          </se:PolygonSymbolizer>
        </se:Rule>
      </se:FeatureTypeStyle>
    </UserStyle>
  </NamedLayer>
</StyledLayerDescriptor>
