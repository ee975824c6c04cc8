<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated from styles/index.yml by services/style_encodings.py: do not edit, run python -m services.style_encodings. -->
<StyledLayerDescriptor xmlns="http://www.opengis.net/sld" xmlns:ogc="http://www.opengis.net/ogc" xmlns:se="http://www.opengis.net/se" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="1.1.0" xsi:schemaLocation="http://www.opengis.net/sld http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd">
  <NamedLayer>
    <se:Name>terrils</se:Name>
    <UserStyle>
      <se:Name>default</se:Name>
      <se:Description>
        <se:Title>Terrils par périmètre UNESCO</se:Title>
        <se:Abstract>Slag heaps by UNESCO perimeter. Slag heaps of the World Heritage property and of its buffer zone. / Terrils du bien inscrit au patrimoine mondial et de sa zone tampon.</se:Abstract>
      </se:Description>
      <se:FeatureTypeStyle>
        <se:Rule>
          <se:Name>Bien inscrit UNESCO</se:Name>
          <se:Description>
            <se:Title>Bien inscrit UNESCO</se:Title>
            <se:Abstract>UNESCO inscribed property</se:Abstract>
          </se:Description>
          <ogc:Filter>
            <ogc:PropertyIsEqualTo>
              <ogc:PropertyName>perimetre_unesco</ogc:PropertyName>
              <ogc:Literal>bien inscrit</ogc:Literal>
            </ogc:PropertyIsEqualTo>
          </ogc:Filter>
          <se:PolygonSymbolizer>
            <se:Fill>
              <se:SvgParameter name="fill">#54278f</se:SvgParameter>
              <se:SvgParameter name="fill-opacity">0.7</se:SvgParameter>
            </se:Fill>
            <se:Stroke>
              <se:SvgParameter name="stroke">#54278f</se:SvgParameter>
              <se:SvgParameter name="stroke-width">1</se:SvgParameter>
              <se:SvgParameter name="stroke-linejoin">round</se:SvgParameter>
            </se:Stroke>
          </se:PolygonSymbolizer>
        </se:Rule>
        <se:Rule>
          <se:Name>Zone tampon</se:Name>
          <se:Description>
            <se:Title>Zone tampon</se:Title>
            <se:Abstract>Buffer zone</se:Abstract>
          </se:Description>
          <ogc:Filter>
            <ogc:PropertyIsEqualTo>
              <ogc:PropertyName>perimetre_unesco</ogc:PropertyName>
              <ogc:Literal>zone tampon</ogc:Literal>
            </ogc:PropertyIsEqualTo>
          </ogc:Filter>
          <se:PolygonSymbolizer>
            <se:Fill>
              <se:SvgParameter name="fill">#9e9ac8</se:SvgParameter>
              <se:SvgParameter name="fill-opacity">0.7</se:SvgParameter>
            </se:Fill>
            <se:Stroke>
              <se:SvgParameter name="stroke">#9e9ac8</se:SvgParameter>
              <se:SvgParameter name="stroke-width">1</se:SvgParameter>
              <se:SvgParameter name="stroke-linejoin">round</se:SvgParameter>
            </se:Stroke>
          </se:PolygonSymbolizer>
        </se:Rule>
      </se:FeatureTypeStyle>
    </UserStyle>
  </NamedLayer>
</StyledLayerDescriptor>
