// The business park sheet (issue 17 point 5): a click on a park (zae) shows its figures
// (GET /dataviz/zae/{id}, services/zae_dataviz.py), a small SVG chart of its available area
// month by month, and its lots (collection zae-lots, when it exists) on the map, coloured by
// status. Drawn in the side panel of panels.js (showView), again when the language changes.
import { ApiError, execute, getJSON, url } from './api.js';
import { bothLanguages, formatNumber, pick } from './i18n.js';
import { h, showView } from './panels.js';

const MONTHS = 24;
const LOTS = 'zae-lots';
const SOURCE = 'zae-focus-lots';
const POTENTIAL = 'zae-focus-potential';
const MAX_LOTS = 1000;
export const STATUS_COLOURS = {
  disponible: '#2e9e4f', 'réservé': '#e8a317', 'cédé': '#4f6fd1', 'occupé': '#8c8c8c',
};
const TEXTS = {
  park: { fr: "Zone d'activités", en: 'Business park' },
  figures: { fr: 'Chiffres', en: 'Figures' },
  chart: { fr: 'Surface disponible (ha), fin de mois', en: 'Available area (ha), end of month' },
  noChart: { fr: 'Pas encore de valeur dans l\'historique.', en: 'No value in the history yet.' },
  lots: { fr: 'Lots', en: 'Lots' },
  noLots: { fr: 'Pas de lots : la collection zae-lots n\'existe pas encore sur ce serveur.',
    en: 'No lots: the zae-lots collection does not exist on this server yet.' },
  lotsNone: { fr: 'Aucun lot pour ce parc.', en: 'No lot for this park.' },
  missing: { fr: 'Pas encore calculés : {names}', en: 'Not computed yet: {names}' },
  csv: { fr: 'Exporter l\'évolution (CSV)', en: 'Export the evolution (CSV)' },
  history: { fr: 'Historique des versions', en: 'Version history' },
  densify: { fr: 'Potentiel de densification', en: 'Densification potential' },
  densifyRun: { fr: 'Calculer le potentiel', en: 'Compute the potential' },
  densifyRunning: { fr: 'Calcul en cours…', en: 'Computing…' },
  potentiel_m2: { fr: 'Potentiel total', en: 'Total potential' },
  potentiel_occupes_m2: { fr: 'Partie non bâtie des lots occupés', en: 'Unbuilt part of occupied lots' },
  potentiel_disponibles_m2: { fr: 'Partie constructible des lots disponibles', en: 'Buildable part of available lots' },
  densifyNote: { fr: 'Recul {recul} m, morceaux d\'au moins {min} m² (en rouge sur la carte).',
    en: 'Setback {recul} m, pieces of at least {min} m² (in red on the map).' },
  surface_totale_ha: { fr: 'Surface totale', en: 'Total area' },
  surface_disponible_ha: { fr: 'Surface disponible', en: 'Available area' },
  surface_reservee_ha: { fr: 'Surface réservée', en: 'Reserved area' },
  surface_cedee_ha: { fr: 'Surface cédée', en: 'Sold area' },
  surface_occupee_ha: { fr: 'Surface occupée', en: 'Occupied area' },
  lots_disponibles: { fr: 'Lots disponibles', en: 'Available lots' },
  reserve_amenagee_ha: { fr: 'Réserve aménagée', en: 'Developed reserve' },
  reserve_non_amenagee_ha: { fr: 'Réserve non aménagée', en: 'Undeveloped reserve' },
  sites_actifs: { fr: 'Sites actifs', en: 'Active sites' },
  friches_nombre: { fr: 'Friches', en: 'Brownfields' },
  disponible: { fr: 'disponible', en: 'available' },
  'réservé': { fr: 'réservé', en: 'reserved' },
  'cédé': { fr: 'cédé', en: 'sold' },
  'occupé': { fr: 'occupé', en: 'occupied' },
};
const say = (key, params = {}) => Object.entries(params)
  .reduce((text, [name, value]) => text.replace(`{${name}}`, value), pick(TEXTS[key]) || key);

let catalogPromise = null;
let opened = 0;
const named = {}; // park id -> name, from the dataviz answer (a click may carry only the id)

function hasLots() {
  catalogPromise = catalogPromise || getJSON('map/catalog.json').catch(() => ({}));
  return catalogPromise.then((catalog) => Boolean(catalog[LOTS]));
}

function value(field, number) {
  if (number == null) return '—';
  return field.endsWith('_ha') ? `${formatNumber(number, 2)} ha` : formatNumber(number);
}

// ---- the chart ----------------------------------------------------------------------------
const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, text = null) {
  const el = document.createElementNS(SVG, tag);
  Object.entries(attrs).forEach(([key, v]) => el.setAttribute(key, String(v)));
  if (text != null) el.textContent = text;
  return el;
}

/** A line of the available area at the end of each month (months with a value only). */
export function chart(months, field = 'surface_disponible_ha') {
  const points = months.map((m, i) => ({ i, month: m.month, v: m.values[field] }))
    .filter((p) => p.v != null);
  if (!points.length) return h('p', { className: 'hint' }, say('noChart'));
  const width = 300; const height = 120; const left = 36; const right = 8; const top = 10; const bottom = 22;
  const max = Math.max(...points.map((p) => p.v)) || 1;
  const x = (i) => left + (months.length > 1 ? (i / (months.length - 1)) * (width - left - right) : 0);
  const y = (v) => top + (1 - v / (max * 1.1)) * (height - top - bottom);
  const root = svg('svg', { class: 'zae-chart', viewBox: `0 0 ${width} ${height}`, width, height,
    role: 'img', 'aria-label': say('chart'), 'data-points': points.length });
  root.append(svg('line', { x1: left, y1: y(0), x2: width - right, y2: y(0), stroke: '#999' }));
  root.append(svg('line', { x1: left, y1: top, x2: left, y2: y(0), stroke: '#999' }));
  root.append(svg('text', { x: left - 4, y: y(max) + 4, 'text-anchor': 'end', 'font-size': 10 }, formatNumber(max, 1)));
  root.append(svg('text', { x: left - 4, y: y(0) + 4, 'text-anchor': 'end', 'font-size': 10 }, '0'));
  root.append(svg('text', { x: left, y: height - 6, 'font-size': 10 }, months[0].month));
  root.append(svg('text', { x: width - right, y: height - 6, 'text-anchor': 'end', 'font-size': 10 },
    months[months.length - 1].month));
  root.append(svg('polyline', { points: points.map((p) => `${x(p.i)},${y(p.v)}`).join(' '),
    fill: 'none', stroke: STATUS_COLOURS.disponible, 'stroke-width': 2 }));
  points.forEach((p) => {
    const dot = svg('circle', { cx: x(p.i), cy: y(p.v), r: 2.5, fill: STATUS_COLOURS.disponible,
      'data-month': p.month, 'data-value': p.v });
    dot.append(svg('title', {}, `${p.month} : ${formatNumber(p.v, 2)} ha`));
    root.append(dot);
  });
  return root;
}

// ---- the lots on the map ------------------------------------------------------------------
const EMPTY = () => ({ type: 'FeatureCollection', features: [] });

function focusLayers(map) {
  if (map.getSource(SOURCE)) return;
  const colour = ['match', ['get', 'statut'], ...Object.entries(STATUS_COLOURS).flat(), '#cccccc'];
  map.addSource(SOURCE, { type: 'geojson', data: EMPTY() });
  map.addLayer({ id: `${SOURCE}-fill`, type: 'fill', source: SOURCE, paint: { 'fill-color': colour, 'fill-opacity': 0.6 } });
  map.addLayer({ id: `${SOURCE}-line`, type: 'line', source: SOURCE, paint: { 'line-color': '#333', 'line-width': 1 } });
  map.addSource(POTENTIAL, { type: 'geojson', data: EMPTY() });
  map.addLayer({ id: `${POTENTIAL}-fill`, type: 'fill', source: POTENTIAL, paint: { 'fill-color': '#d7301f', 'fill-opacity': 0.35 } });
  map.addLayer({ id: `${POTENTIAL}-line`, type: 'line', source: POTENTIAL, paint: { 'line-color': '#b30000', 'line-width': 1.5 } });
  document.getElementById('panel-close').addEventListener('click', () => {
    map.getSource(SOURCE)?.setData(EMPTY());
    map.getSource(POTENTIAL)?.setData(EMPTY());
  });
}

function lotsLayer(map, features) {
  focusLayers(map);
  map.getSource(SOURCE).setData({ type: 'FeatureCollection', features });
  map.getSource(POTENTIAL).setData(EMPTY());
}

function densification(state) {
  const d = state.densification;
  const button = h('button', { type: 'button', className: 'zae-densify', disabled: d === 'loading',
    onclick: state.densify }, say(d === 'loading' ? 'densifyRunning' : 'densifyRun'));
  if (!d || d === 'loading') return [h('h3', {}, say('densify')), button];
  if (d.error) return [h('h3', {}, say('densify')), h('div', { className: 'error', role: 'alert' }, pick(d.error)), button];
  const m2 = (n) => `${formatNumber(n)} m²`;
  return [h('h3', {}, say('densify')),
    h('dl', { className: 'figures zae-potential' }, ['potentiel_m2', 'potentiel_occupes_m2', 'potentiel_disponibles_m2']
      .map((key) => [h('dt', {}, say(key)), h('dd', { 'data-field': key }, m2(d.summary[key]))])),
    h('p', { className: 'hint' }, say('densifyNote', { recul: formatNumber(d.parameters.recul_m),
      min: formatNumber(d.parameters.min_surface_m2) }))];
}

function lotsLegend(state) {
  if (state.lots === null) return h('p', { className: 'hint zae-no-lots' }, say('noLots'));
  if (!state.lots.length) return h('p', { className: 'hint' }, say('lotsNone'));
  const counts = {};
  state.lots.forEach((f) => { counts[f.properties.statut] = (counts[f.properties.statut] || 0) + 1; });
  return h('ul', { className: 'zae-lots-legend' }, Object.entries(counts).map(([statut, n]) => h('li',
    { 'data-statut': statut },
    h('span', { style: { display: 'inline-block', width: '0.8em', height: '0.8em', 'margin-right': '0.4em',
      background: STATUS_COLOURS[statut] || '#ccc' } }), `${say(statut)} : ${n}`)));
}

// ---- the sheet ----------------------------------------------------------------------------
function render(state) {
  const doc = state.dataviz;
  const rows = [['surface_totale_ha', doc.zae.surface_totale_ha],
    ...doc.fields.filter((f) => !doc.missing.includes(f)).map((f) => [f, doc.current[f]])];
  return h('div', { className: 'result zae' },
    h('h3', {}, say('figures')),
    h('dl', { className: 'figures' }, rows.map(([field, number]) => [
      h('dt', {}, say(field)), h('dd', { 'data-field': field }, value(field, number))])),
    doc.missing.length ? h('p', { className: 'hint zae-missing' },
      say('missing', { names: doc.missing.map((f) => say(f)).join(', ') })) : null,
    h('h3', {}, say('chart')),
    chart(doc.months),
    h('h3', {}, say('lots')),
    lotsLegend(state),
    densification(state));
}

function links(id) {
  return h('p', { className: 'zae-links' },
    h('a', { href: url(`dataviz/zae/${encodeURIComponent(id)}`, { f: 'csv', months: MONTHS }), className: 'zae-csv' }, say('csv')),
    ' · ',
    h('a', { href: url(`collections/zae/items/${encodeURIComponent(id)}/history`), target: '_blank', rel: 'noopener' },
      say('history')));
}

async function fetchLots(id) {
  if (!(await hasLots())) return null;
  const page = await getJSON(`collections/${LOTS}/items`, { zae_id: id, limit: MAX_LOTS, f: 'json' });
  return page.features || [];
}

export async function openZae(map, properties) {
  const id = String(properties.id);
  const run = ++opened;
  const view = {
    kind: 'zae',
    heading: () => properties.nom || named[id] || id,
    subtitle: () => [say('park'), properties.commune, properties.epci_nom].filter(Boolean).join(' — '),
    link: () => links(id),
    renderResult: render,
  };
  showView({ ...view, status: 'loading' });
  const stillMine = () => run === opened && document.getElementById('panel').dataset.view === 'zae';
  try {
    const [dataviz, lots] = await Promise.all([
      getJSON(`dataviz/zae/${encodeURIComponent(id)}`, { months: MONTHS }), fetchLots(id)]);
    if (!stillMine()) return;
    named[id] = dataviz.zae.nom;
    lotsLayer(map, lots || []);
    const state = { dataviz, lots, densification: null };
    const redraw = () => { if (stillMine()) showView({ ...view, result: state }); };
    state.densify = async () => {
      state.densification = 'loading';
      redraw();
      try {
        const result = await execute('zae-densification', { zae: id });
        if (!stillMine()) return;
        state.densification = result;
        map.getSource(POTENTIAL)?.setData(result);
      } catch (err) {
        state.densification = { error: err instanceof ApiError ? err.texts : bothLanguages('networkError') };
      }
      redraw();
    };
    redraw();
  } catch (err) {
    if (!stillMine()) return;
    showView({ ...view, status: 'error', error: err instanceof ApiError ? err.texts : bothLanguages('networkError') });
  }
}
