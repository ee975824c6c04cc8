// The half-hour territory panel (issue 19): a header button opens a panel that runs the
// half-hour-territory process for an EPCI (or the communes typed in) at a date, optionally
// compared with a second date, and shows its radar (SVG), the shares per level and function,
// and the covered sectors on the map (a GeoJSON layer over the published demi-heure layer).
import { ApiError, execute } from './api.js';
import { lang, onLanguageChange } from './i18n.js';

const TEXTS = {
  button: { fr: 'Demi-heure', en: 'Half-hour' },
  title: { fr: 'Territoire de la demi-heure', en: 'Half-hour territory' },
  territory: { fr: 'Territoire', en: 'Territory' },
  communes: { fr: 'ou codes INSEE (virgules)', en: 'or INSEE codes (commas)' },
  date: { fr: 'Date', en: 'Date' },
  compare: { fr: 'Comparer avec', en: 'Compare with' },
  run: { fr: 'Calculer', en: 'Compute' },
  running: { fr: 'Calcul en cours…', en: 'Computing…' },
  population: { fr: 'Population', en: 'Population' },
  all: { fr: 'Toutes', en: 'All' },
  demo: {
    fr: 'Données de démonstration (équipements, population, réseau et horaires modélisés).',
    en: 'Demonstration data (modelled facilities, population, network and timetables).',
  },
  error: { fr: 'Erreur :', en: 'Error:' },
};
const EPCI = [
  ['200072460', 'CA Béthune-Bruay, Artois-Lys Romane'],
  ['246200364', 'CA de Lens - Liévin'],
  ['200069672', 'CC du Ternois'],
  ['200044030', 'CC des 7 Vallées'],
];
const COLOURS = { proximite: '#1b9e77', intermediaire: '#d95f02', structurant: '#7570b3' };
const SOURCE = 'demiheure-result';
const tx = (key) => TEXTS[key][lang()] || TEXTS[key].fr;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  Object.entries(attrs).forEach(([k, v]) => {
    if (k === 'style') node.style.cssText = v;
    else if (k.startsWith('data-') || k.startsWith('aria-')) node.setAttribute(k, v);
    else node[k] = v;
  });
  node.append(...children.filter((c) => c != null));
  return node;
}

const state = { result: null, error: null, busy: false };

function panel() {
  let box = document.getElementById('demiheure-panel');
  if (box) return box;
  box = el('section', {
    id: 'demiheure-panel', hidden: true, 'aria-live': 'polite',
    style: 'position:absolute;top:4rem;right:.5rem;z-index:5;width:min(460px,95vw);max-height:85vh;'
      + 'overflow:auto;background:#fff;border:1px solid #ccc;border-radius:6px;padding:.75rem;'
      + 'box-shadow:0 2px 8px rgba(0,0,0,.2);font-size:.85rem',
  });
  document.body.append(box);
  return box;
}

function form() {
  const select = el('select', { id: 'demiheure-epci' },
    ...EPCI.map(([siren, name]) => el('option', { value: siren }, name)));
  const communes = el('input', { id: 'demiheure-communes', type: 'text', placeholder: '62119, 62510' });
  const date = el('input', { id: 'demiheure-date', type: 'date', value: '2026-01-01' });
  const compare = el('input', { id: 'demiheure-compare', type: 'date', value: '2022-01-01' });
  const run = el('button', { id: 'demiheure-run', type: 'button', disabled: state.busy },
    state.busy ? tx('running') : tx('run'));
  run.addEventListener('click', () => compute(select.value, communes.value, date.value, compare.value));
  return el('div', {},
    el('label', {}, `${tx('territory')} `, select), el('br'),
    el('label', {}, `${tx('communes')} `, communes), el('br'),
    el('label', {}, `${tx('date')} `, date), ' ',
    el('label', {}, `${tx('compare')} `, compare), el('br'), run);
}

function pct(v) {
  return `${Math.round(100 * v)} %`;
}

function table(body) {
  const functions = body.functions;
  const head = el('tr', {}, el('th', {}, ''), ...functions.map((f) => el('th', {}, f)), el('th', {}, tx('all')));
  const rows = body.levels.map((lid) => el('tr', { 'data-level': lid },
    el('th', { style: `color:${COLOURS[lid] || '#333'}` }, lid),
    ...[...functions, 'all'].map((f) => {
      const gain = body.compare ? body.compare.gains[lid][f] : null;
      const text = pct(body.shares[lid][f]) + (gain == null ? '' : ` (${gain >= 0 ? '+' : ''}${(100 * gain).toFixed(1)})`);
      return el('td', {}, text);
    })));
  return el('table', { id: 'demiheure-shares', style: 'border-collapse:collapse;width:100%' }, head, ...rows);
}

function showSectors(body) {
  const map = window.artoisMap;
  if (!map) return;
  const data = { type: 'FeatureCollection', features: body.sectors.features.filter((f) => f.geometry && f.properties.date_etat === body.date) };
  if (map.getSource(SOURCE)) map.getSource(SOURCE).setData(data);
  else {
    map.addSource(SOURCE, { type: 'geojson', data });
    map.addLayer({
      id: `${SOURCE}-fill`, type: 'fill', source: SOURCE,
      paint: {
        'fill-color': ['match', ['get', 'niveau'], ...Object.entries(COLOURS).flat(), '#888'],
        'fill-opacity': 0.3,
      },
    });
  }
}

function draw() {
  const box = panel();
  const close = el('button', { type: 'button', 'aria-label': 'close', style: 'float:right' }, '×');
  close.addEventListener('click', () => { box.hidden = true; });
  const parts = [close, el('h2', { style: 'font-size:1rem;margin:0 0 .5rem' }, tx('title')), form(),
    el('p', { style: 'color:#666' }, tx('demo'))];
  if (state.error) parts.push(el('p', { role: 'alert', style: 'color:#b00' }, `${tx('error')} ${state.error[lang()] || state.error.fr}`));
  if (state.result) {
    const body = state.result;
    const img = el('img', { id: 'demiheure-radar', alt: tx('title'), style: 'width:100%' });
    img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(body.radar)}`;
    parts.push(el('p', {}, `${tx('population')} : ${body.population.toLocaleString(lang())}`), img, table(body));
  }
  box.replaceChildren(...parts);
}

async function compute(epci, communesText, date, compare) {
  const codes = communesText.split(',').map((c) => c.trim()).filter(Boolean);
  const inputs = { territory: codes.length ? { communes: codes } : { epci }, include_cells: false };
  if (date) inputs.date = date;
  if (compare && compare !== date) inputs.compare_date = compare;
  state.busy = true;
  state.error = null;
  draw();
  try {
    state.result = await execute('half-hour-territory', inputs);
    showSectors(state.result);
  } catch (err) {
    state.error = err instanceof ApiError ? err.texts : { fr: err.message, en: err.message };
  }
  state.busy = false;
  draw();
}

function start() {
  const header = document.querySelector('header');
  if (!header || document.getElementById('demiheure-toggle')) return;
  const button = el('button', { id: 'demiheure-toggle', type: 'button' }, tx('button'));
  button.addEventListener('click', () => {
    const box = panel();
    box.hidden = !box.hidden;
    if (!box.hidden) draw();
  });
  header.insertBefore(button, document.getElementById('lang-toggle'));
  onLanguageChange(() => {
    button.textContent = tx('button');
    if (!panel().hidden) draw();
  });
}

window.artoisDemiHeure = { compute, state };
start();
