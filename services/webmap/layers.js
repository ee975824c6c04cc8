// The collections of the server as map layers: one source per collection (vector tiles, or
// raster map tiles for the overheating coverage), the style layers the server publishes for
// it (/collections/{id}/styles/default?f=mapbox), a layer switcher and legends.
import { getJSON, url } from './api.js';
import { onLanguageChange, pick, t } from './i18n.js';

export const TMS = 'WebMercatorQuad';
export const RASTER = 'surchauffe';
export const YEARS = [2022, 2023, 2024];
// Shown when the map opens; the hazard grids and the raster cover everything, so they wait
// for the reader to ask for them.
// dense layers, and the support layers of the mutability criteria (issue 15): off at start
const HIDDEN_AT_START = new Set(['alea-argiles', 'alea-inondation', 'bruit', 'qualite-air', RASTER,
  'qpv', 'habitat-communes', 'arrets-transport', 'echangeurs-autoroutiers', 'routes-principales',
  'commerces-services', 'postes-electriques', 'reseaux-chaleur', 'zonages-environnementaux',
  'trame-verte-bleue', 'servitudes-patrimoniales', 'sites-icpe', 'cavites-souterraines',
  'zones-acceleration-enr', 'indicateurs-sociaux', 'cadastre-solaire']);
// Drawing order: raster under polygons, polygons under lines, lines under points; the
// administrative outlines above the other polygons.
const GEOMETRY_ORDER = { raster: 0, polygon: 1, outline: 2, line: 3, point: 4 };
const OUTLINES = new Set(['communes', 'epci']);

export const sourceId = (cid) => `src:${cid}`;
const STYLES_REL = 'http://www.opengis.net/def/rel/ogc/1.0/styles';

/** A collection published without a style yet (a new collection file): drawn plain, off at
 * start (a plain polygon layer would hide the communes' clicks). */
function plainStyle(collection) {
  const type = (collection.geometry || '').toLowerCase();
  const colour = '#6d6a86';
  if (type.includes('point')) {
    return { layers: [{ id: 'plain', type: 'circle', paint: { 'circle-color': colour, 'circle-radius': 4,
      'circle-stroke-color': '#fff', 'circle-stroke-width': 1 } }] };
  }
  if (type.includes('line')) return { layers: [{ id: 'plain', type: 'line', paint: { 'line-color': colour, 'line-width': 1.5 } }] };
  return { layers: [{ id: 'plain', type: 'fill', paint: { 'fill-color': colour, 'fill-opacity': 0.2,
    'fill-outline-color': colour } }] };
}

function geometryRank(collection) {
  if (collection.kind === 'raster') return GEOMETRY_ORDER.raster;
  if (OUTLINES.has(collection.id)) return GEOMETRY_ORDER.outline;
  const type = (collection.geometry || '').toLowerCase();
  if (type.includes('point')) return GEOMETRY_ORDER.point;
  if (type.includes('line')) return GEOMETRY_ORDER.line;
  return GEOMETRY_ORDER.polygon;
}

function rasterTiles(year) {
  return [`${url(`collections/${RASTER}/map/tiles/${TMS}`)}/{z}/{y}/{x}?f=png&datetime=${year}`];
}

function sourceFor(collection, year) {
  const bounds = collection.bbox;
  if (collection.kind === 'raster') {
    return { type: 'raster', tiles: rasterTiles(year), tileSize: 256, bounds, maxzoom: 16 };
  }
  return {
    type: 'vector',
    tiles: [`${url(`collections/${collection.id}/tiles/${TMS}`)}/{z}/{y}/{x}`],
    bounds,
    maxzoom: 16,
  };
}

/**
 * The published style's layers, bound to our source of the collection. A polygon layer drawn
 * as outlines only gets an invisible fill under it, so that a click inside a commune finds it.
 */
function styleLayers(collection, style) {
  const layers = (style.layers || [])
    .filter((layer) => layer.type !== 'background')
    .map((layer) => {
      const bound = { ...layer, id: `${collection.id}::${layer.id}`, source: sourceId(collection.id) };
      if (collection.kind === 'raster') delete bound['source-layer'];
      else bound['source-layer'] = collection.id;
      return bound;
    });
  const polygons = /polygon/i.test(collection.geometry || '');
  if (polygons && !layers.some((layer) => layer.type === 'fill')) {
    layers.unshift({ id: `${collection.id}::hit`, type: 'fill', source: sourceId(collection.id),
      'source-layer': collection.id, paint: { 'fill-color': '#000', 'fill-opacity': 0 } });
  }
  return layers;
}

// ---- legends ---------------------------------------------------------------------------

const COLOUR_PAINT = ['fill-color', 'line-color', 'circle-color'];

/**
 * Legend entries [{colour, label, shape}] of a collection: the classes each published style
 * layer declares in its metadata ('artois:legend', bilingual labels), else its plain colour.
 */
function legendOf(collection, style) {
  return (style.layers || []).flatMap((layer) => {
    const declared = layer.metadata?.['artois:legend'];
    if (Array.isArray(declared)) {
      return declared.map((entry) => ({ colour: entry.color, label: entry.label, shape: layer.type }));
    }
    const key = COLOUR_PAINT.find((k) => typeof layer.paint?.[k] === 'string');
    return key ? [{ colour: layer.paint[key], label: collection.title, shape: layer.type }] : [];
  });
}

function rasterLegend(legendJson) {
  const stops = legendJson.stops || legendJson.classes || legendJson.legend || [];
  return stops.map((stop) => ({ colour: stop.color, label: stop.label ?? `${stop.value}`, shape: 'raster' }));
}

// ---- loading ----------------------------------------------------------------------------

/** Every collection of the server, with its catalogue titles, extent, style and legend. */
export async function loadCollections(catalog) {
  const listing = await getJSON('collections', { f: 'json' });
  const collections = listing.collections.map((c) => ({
    id: c.id,
    kind: c.itemType === 'feature' ? 'vector' : 'raster',
    title: catalog[c.id]?.title || { fr: c.title, en: c.title },
    demo: Boolean(catalog[c.id]?.demo),
    bbox: c.extent?.spatial?.bbox?.[0]?.slice(0, 4),
    geometry: catalog[c.id]?.geometry_type,
    styled: (c.links || []).some((link) => link.rel === STYLES_REL),
  }));
  await Promise.all(collections.map(async (collection) => {
    const style = collection.styled
      ? await getJSON(`collections/${collection.id}/styles/default`, { f: 'mapbox' })
      : plainStyle(collection);
    collection.layers = styleLayers(collection, style);
    collection.legend = collection.kind === 'raster'
      ? rasterLegend(await getJSON(`collections/${RASTER}/legend`, { f: 'json' }))
      : legendOf(collection, style);
    collection.minzoom = Math.min(...collection.layers.map((l) => l.minzoom ?? 0));
  }));
  collections.sort((a, b) => geometryRank(a) - geometryRank(b));
  return collections;
}

export function addToMap(map, collections, year) {
  for (const collection of collections) {
    map.addSource(sourceId(collection.id), sourceFor(collection, year));
    const visibility = HIDDEN_AT_START.has(collection.id) || !collection.styled ? 'none' : 'visible';
    for (const layer of collection.layers) {
      map.addLayer({ ...layer, layout: { ...(layer.layout || {}), visibility } });
    }
  }
}

export function setYear(map, year) {
  map.getSource(sourceId(RASTER)).setTiles(rasterTiles(year));
}

export function isVisible(map, collection) {
  return collection.layers.some((l) => map.getLayoutProperty(l.id, 'visibility') !== 'none');
}

export function setVisible(map, collection, visible) {
  for (const layer of collection.layers) {
    map.setLayoutProperty(layer.id, 'visibility', visible ? 'visible' : 'none');
  }
}

// ---- layer switcher ---------------------------------------------------------------------

function swatch(entry) {
  const span = document.createElement('span');
  span.className = `swatch swatch-${entry.shape || 'fill'}`;
  span.style.setProperty('--swatch', typeof entry.colour === 'string' ? entry.colour : '#888');
  return span;
}

function legendList(collection) {
  const list = document.createElement('ul');
  list.className = 'legend';
  for (const entry of collection.legend) {
    const item = document.createElement('li');
    item.append(swatch(entry), document.createTextNode(` ${pick(entry.label)}`));
    list.append(item);
  }
  return list;
}

function yearSelect(map, state) {
  const label = document.createElement('label');
  label.className = 'year';
  const text = document.createElement('span');
  text.dataset.i18n = 'year';
  text.textContent = t('year');
  const select = document.createElement('select');
  select.id = 'year';
  for (const year of YEARS) select.add(new Option(`${year}`, `${year}`, false, year === state.year));
  select.addEventListener('change', () => {
    state.year = Number(select.value);
    setYear(map, state.year);
  });
  label.append(text, select);
  return label;
}

/** One row per collection (topmost first): a checkbox, its title, its legend. */
export function buildSwitcher(container, map, collections, state) {
  const render = () => {
    container.replaceChildren();
    for (const collection of [...collections].reverse()) {
      const row = document.createElement('li');
      row.dataset.collection = collection.id;
      const label = document.createElement('label');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.checked = isVisible(map, collection);
      box.addEventListener('change', () => {
        setVisible(map, collection, box.checked);
        row.classList.toggle('off', !box.checked);
      });
      const title = document.createElement('span');
      title.textContent = pick(collection.title).replace(/\s*\((données de démonstration|demonstration data)\)/, '');
      label.append(box, title);
      if (collection.demo) {
        const badge = document.createElement('em');
        badge.className = 'demo';
        badge.textContent = t('demo');
        label.append(badge);
      }
      row.append(label);
      if (collection.kind === 'raster') row.append(yearSelect(map, state));
      if (collection.minzoom > 0) {
        const hint = document.createElement('small');
        hint.className = 'zoom-hint';
        hint.textContent = t('zoomIn', { zoom: collection.minzoom });
        row.append(hint);
      }
      row.append(legendList(collection));
      row.classList.toggle('off', !box.checked);
      container.append(row);
    }
    updateZoomHints(container, map, collections);
  };
  render();
  onLanguageChange(render);
  map.on('zoomend', () => updateZoomHints(container, map, collections));
}

function updateZoomHints(container, map, collections) {
  for (const collection of collections) {
    const hint = container.querySelector(`li[data-collection="${collection.id}"] .zoom-hint`);
    if (hint) hint.hidden = map.getZoom() >= collection.minzoom;
  }
}
