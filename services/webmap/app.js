// The agency's web map: every collection of this server on a plain background (no base map
// from the internet), a layer switcher with legends, and the processes one click away.
import { Map, NavigationControl, ScaleControl } from '../vendor/maplibre-gl.mjs';
import { ApiError, getJSON } from './api.js';
import { bothLanguages, lang, onLanguageChange, pick, setLanguage, translateStatic } from './i18n.js';
import { RASTER, addToMap, buildSwitcher, isVisible, loadCollections } from './layers.js';
import { closePanel, openBuilding, openCommune, openFeature, openFriche, openSafn } from './panels.js';
import { openZae } from './zae.js';
import { openCadastre, setupAuth } from './cadastre.js';

const TERRITORY = [[1.75, 50.19], [2.95, 50.65]];
// What a click opens when features of several collections are under the finger.
const CLICK_FIRST = ['safn', 'friches', 'puits-miniers', 'cadastre-solaire', 'batiments'];
const CLICK_LAST = ['communes', 'epci'];
const ACTIONS = {
  friches: (map, event, feature) => openFriche(feature.properties),
  communes: (map, event, feature) => openCommune(feature.properties),
  batiments: (map, event, feature) => openBuilding(feature.properties),
  zae: (map, event, feature) => openZae(map, feature.properties),
  'cadastre-solaire': (map, event, feature) => openCadastre(map, event.lngLat, feature.properties),
};

function showStatus(texts) {
  const box = document.getElementById('status');
  box.hidden = false;
  box.dataset.fr = texts.fr;
  box.dataset.en = texts.en;
  box.textContent = pick(texts);
}

function clickOrder(collections) {
  const drawn = [...collections].reverse().map((c) => c.id);
  const middle = drawn.filter((id) => !CLICK_FIRST.includes(id) && !CLICK_LAST.includes(id));
  return [...CLICK_FIRST, ...middle, ...CLICK_LAST];
}

function featuresAt(map, collections, point) {
  const pad = 6; // a finger is wider than a pixel
  const layers = collections.filter((c) => isVisible(map, c) && c.kind === 'vector')
    .flatMap((c) => c.layers.map((l) => l.id));
  if (!layers.length) return [];
  return map.queryRenderedFeatures([[point.x - pad, point.y - pad], [point.x + pad, point.y + pad]], { layers });
}

function wireClicks(map, collections, catalog) {
  const order = clickOrder(collections);
  const byId = Object.fromEntries(collections.map((c) => [c.id, c]));
  const collectionOf = (feature) => feature.layer.id.split('::')[0];
  map.on('click', (event) => {
    const features = featuresAt(map, collections, event.point);
    if (!features.length) return;
    const rank = (feature) => order.indexOf(collectionOf(feature));
    const feature = features.reduce((best, f) => (rank(f) < rank(best) ? f : best));
    const cid = collectionOf(feature);
    if (cid === 'safn') openSafn(map, event.lngLat, feature.properties, catalog);
    else if (ACTIONS[cid]) ACTIONS[cid](map, event, feature);
    else openFeature(map, event.lngLat, byId[cid], feature.properties, catalog);
  });
  map.on('mousemove', (event) => {
    map.getCanvas().style.cursor = featuresAt(map, collections, event.point).length ? 'pointer' : '';
  });
}

function wireChrome() {
  document.getElementById('lang-toggle').addEventListener('click', () => {
    setLanguage(lang() === 'fr' ? 'en' : 'fr');
  });
  const layersPanel = document.getElementById('layers');
  const layersButton = document.getElementById('layers-toggle');
  layersButton.addEventListener('click', () => {
    const open = layersPanel.classList.toggle('open');
    layersButton.setAttribute('aria-expanded', String(open));
  });
  document.getElementById('panel-close').addEventListener('click', closePanel);
  onLanguageChange(() => {
    const status = document.getElementById('status');
    if (!status.hidden) status.textContent = pick({ fr: status.dataset.fr, en: status.dataset.en });
  });
}

async function start() {
  translateStatic();
  wireChrome();
  const map = new Map({
    container: 'map',
    style: {
      version: 8,
      sources: {},
      layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#f3f1ec' } }],
    },
    bounds: TERRITORY,
    fitBoundsOptions: { padding: 10 },
    attributionControl: { compact: true, customAttribution: 'Agence d\'urbanisme de l\'Artois, IGN, INSEE, Cerema' },
  });
  window.artoisMap = map; // for the browser tests and the curious reader's console
  setupAuth(map, new URL('../../', import.meta.url).href); // sign-in: services/webmap/auth.js
  map.addControl(new NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new ScaleControl(), 'bottom-left');
  map.on('error', (event) => {
    console.error(event.error); // eslint-disable-line no-console
    showStatus(bothLanguages('mapError', { message: event.error?.message || '' }));
  });
  const state = { year: 2024 };
  try {
    const [catalog] = await Promise.all([getJSON('map/catalog.json'), map.once('load')]);
    const collections = await loadCollections(catalog);
    addToMap(map, collections, state.year);
    buildSwitcher(document.getElementById('layer-list'), map, collections, state);
    wireClicks(map, collections, catalog);
    window.artoisWebmap = { collections, state, raster: RASTER };
    document.body.dataset.ready = 'true';
  } catch (err) {
    console.error(err); // eslint-disable-line no-console
    showStatus(err instanceof ApiError ? err.texts : bothLanguages('mapError', { message: err.message }));
  }
}

start();
