// What a click shows: the side panel running a process (friche → mutability, commune →
// risk-matrix, building → solar-potential) and popups (SAFN sheet, other features).
// Every view is a function of its state, drawn again when the reader switches language.
import { Popup } from '../vendor/maplibre-gl.mjs';
import { ApiError, execute, getJSON, url } from './api.js';
import { bothLanguages, formatNumber, lang, onLanguageChange, pick, processLabel, t, useLabel } from './i18n.js';

/** A small DOM builder: h('p', {className: 'x'}, 'text', child). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'style') Object.entries(value).forEach(([name, v]) => el.style.setProperty(name, v));
    else if (key.startsWith('data-') || key.startsWith('aria-') || key === 'role') el.setAttribute(key, value);
    else el[key] = value;
  }
  el.append(...children.flat(Infinity).filter((c) => c != null && c !== false)
    .map((c) => (c instanceof Node ? c : document.createTextNode(String(c)))));
  return el;
}

const spinner = () => h('div', { className: 'spinner', role: 'status' },
  h('span', { className: 'spinner-wheel', 'aria-hidden': 'true' }), t('loading'));

const errorBox = (texts) => h('div', { className: 'error', role: 'alert' },
  h('strong', {}, `${t('error')} `), pick(texts));

// ---- the side panel ---------------------------------------------------------------------

let panelView = null;
let runCounter = 0;

function drawPanel() {
  const panel = document.getElementById('panel');
  const body = document.getElementById('panel-body');
  if (!panelView) {
    panel.hidden = true;
    return;
  }
  panel.hidden = false;
  panel.dataset.view = panelView.kind;
  panel.setAttribute('aria-busy', panelView.status === 'loading' ? 'true' : 'false');
  const content = panelView.status === 'loading' ? spinner()
    : panelView.status === 'error' ? errorBox(panelView.error)
      : panelView.renderResult(panelView.result);
  // replaceChildren would write a null as the text "null": a view without a link adds none
  body.replaceChildren(...[h('h2', {}, panelView.heading()), h('p', { className: 'subtitle' }, panelView.subtitle()),
    panelView.link ? panelView.link() : null, content].filter((node) => node != null));
}

export function closePanel() {
  panelView = null;
  runCounter += 1; // a late answer of the closed view is dropped
  drawPanel();
}
export function showView(view) { runCounter += 1; panelView = { ...view, status: view.status || 'done' }; drawPanel(); } // services/webmap/zae.js

/** Open the panel on a view and run its process; only the latest click's answer is shown. */
async function runInPanel(view, processId, inputs) {
  const run = ++runCounter;
  panelView = { ...view, status: 'loading' };
  drawPanel();
  try {
    const result = await execute(processId, inputs);
    if (run !== runCounter) return;
    panelView = { ...panelView, status: 'done', result };
  } catch (err) {
    if (run !== runCounter) return;
    const texts = err instanceof ApiError ? err.texts : bothLanguages('networkError');
    panelView = { ...panelView, status: 'error', error: texts };
  }
  drawPanel();
}

// ---- friche: mutability -----------------------------------------------------------------

function mutabilityResult(output) {
  const evaluation = output.result;
  const rows = [...evaluation.results].sort((a, b) => a.rank - b.rank).map((use) => h('tr',
    { className: use.excluded ? 'excluded' : '', 'data-use': use.use },
    h('td', { className: 'num' }, use.rank),
    h('th', { scope: 'row' }, useLabel(use.use)),
    h('td', { className: 'bar-cell' },
      h('span', { className: 'bar', style: { width: `${Math.max(0, Math.min(100, use.index))}%` } }),
      h('span', { className: 'bar-value' }, `${formatNumber(use.index, 1)} · ${processLabel(use.label)}`,
        use.excluded ? ` (${t('excluded')})` : '')),
    h('td', { className: 'num' }, `${formatNumber(use.advantages, 2)} / ${formatNumber(use.constraints, 2)}`)));
  const reliability = evaluation.reliability;
  return h('div', { className: 'result mutability' },
    h('h3', {}, t('mutability')),
    h('div', { className: 'scroll' }, h('table', {},
      h('thead', {}, h('tr', {}, h('th', {}, t('rank')), h('th', {}, t('use')),
        h('th', {}, `${t('index')} (%) · ${t('potential')}`), h('th', { title: t('scoreTitle') }, t('score')))),
      h('tbody', {}, rows))),
    h('p', { className: 'reliability' }, h('strong', {}, `${t('reliability')} : `),
      `${formatNumber(reliability.score, 1)} / 10 — ${processLabel(reliability.label)}`),
    h('p', { className: 'meta' }, `${t('algorithm')} : ${evaluation.algorithm_version}`));
}

/** The friche's printable sheet (services/fiche.py), in the map's language. */
export function ficheUrl(id) {
  return url(`collections/friches/items/${encodeURIComponent(id)}/fiche`, { lang: lang() });
}

export function openFriche(properties) {
  const id = properties.site_id;
  runInPanel({
    kind: 'friche',
    heading: () => properties.site_nom || id,
    subtitle: () => `${t('friche')} ${id}`,
    link: () => h('p', { className: 'sheet-link' },
      h('a', { href: ficheUrl(id), target: '_blank', rel: 'noopener' }, t('ficheLink'))),
    renderResult: mutabilityResult,
  }, 'mutability', { friche: String(id) });
}

// ---- commune: risk matrix ---------------------------------------------------------------

const CRITICITY_CLASS = { modéré: 'moderate', critique: 'critical', 'très critique': 'very-critical' };
const TREND_ARROW = { rising: '↗', stable: '→', falling: '↘' };
const MATRICES = ['environmental', 'societal'];

// the preventive and curative actions of a risk, and what to watch (issue 18), folded
function riskActions(risk) {
  const actions = risk.actions;
  if (!actions) return null;
  const list = (items, className) => h('ul', { className }, items.map((a) => h('li', {}, pick(a))));
  // inline styles: the panel's stylesheet is shared; these few rules belong to this view
  return h('details', { className: 'risk-actions', style: { 'font-weight': 'normal', 'font-size': '.85em' } },
    h('summary', {}, `${t('actions')} (${actions.preventive.length + actions.curative.length})`),
    h('p', {}, h('strong', {}, t('preventive'))), list(actions.preventive, 'preventive'),
    h('p', {}, h('strong', {}, t('curative'))), list(actions.curative, 'curative'),
    actions.anticipate?.length ? [h('p', {}, h('strong', {}, t('anticipate'))),
      list(actions.anticipate, 'anticipate')] : null);
}

function riskResult(output, name, properties, matrix) {
  // an <img> shows the server's SVG document without running anything it could contain
  const grid = h('img', {
    className: 'risk-grid',
    src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(output.svg)}`,
    alt: t('gridAlt', { name }),
  });
  const en = lang() === 'en';
  const rows = output.risks.map((risk) => h('tr', { 'data-risk': risk.id },
    h('td', {}, risk.id),
    h('th', { scope: 'row' }, en ? risk.label_en || risk.label : risk.label,
      h('small', {}, `${(en ? risk.probability_en : risk.probability) || '–'} × ${
        (en ? risk.gravity_en : risk.gravity) || '–'}`),
      risk.trend ? h('span', { className: `trend ${risk.trend}`, 'data-trend': risk.trend,
        style: { 'font-weight': 'normal', 'font-size': '.8em', display: 'block' } },
        `${TREND_ARROW[risk.trend] || ''} ${t(`trend_${risk.trend}`)}`) : null,
      riskActions(risk)),
    h('td', {}, h('span', { className: `criticity ${CRITICITY_CLASS[risk.criticity] || 'none'}` },
      risk.criticity ? (en ? risk.criticity_en : risk.criticity) : t('notAssessed')))));
  const switcher = h('div', { className: 'matrix-switch', role: 'group', 'aria-label': t('matrixChoice') },
    MATRICES.map((m) => h('button', {
      type: 'button',
      'data-matrix': m,
      'aria-pressed': String(m === matrix),
      onclick: () => { if (m !== matrix) openCommune(properties, m); },
    }, t(m === 'societal' ? 'matrixSocietal' : 'matrixEnvironmental'))));
  return h('div', { className: 'result risks', 'data-matrix': matrix },
    switcher,
    h('h3', {}, t(matrix === 'societal' ? 'riskMatrixSocietal' : 'riskMatrix')),
    h('a', { href: grid.src, target: '_blank', rel: 'noopener', className: 'grid-link' }, grid),
    h('table', {},
      h('thead', {}, h('tr', {}, h('th', {}, ''), h('th', {}, `${t('risk')} (${t('probability')} × ${t('gravity')})`),
        h('th', {}, t('criticity')))),
      h('tbody', {}, rows)));
}

/** The commune's risk matrix: environmental (default) or societal, with actions per risk. */
export function openCommune(properties, matrix = 'environmental') {
  const name = properties.nom || properties.insee;
  runInPanel({
    kind: 'commune',
    heading: () => name,
    subtitle: () => `${t('commune')} ${properties.insee}`,
    // the commune's key figures page (services/territoires.py), in the map's language
    link: () => h('p', { className: 'sheet-link territory-link' },
      h('a', { href: url(`territoires/${encodeURIComponent(properties.insee)}`, { lang: lang() }),
        target: '_blank', rel: 'noopener' }, t('territoryLink'))),
    renderResult: (output) => riskResult(output, name, properties, matrix),
  }, 'risk-matrix', { commune: String(properties.insee), matrix });
}

// ---- building: solar potential ----------------------------------------------------------

function solarResult(output) {
  const roof = output.features[0].properties;
  const figure = (label, value) => [h('dt', {}, label), h('dd', {}, value)];
  return h('div', { className: 'result solar' },
    h('h3', {}, t('solar')),
    h('dl', { className: 'figures' },
      figure(t('solarClass'), h('span', { className: 'solar-class', style: { '--class-colour': roof.class_colour || '#888' } },
        h('span', { className: 'class-chip' }, roof.class), ' ', pick({ fr: roof.class_label_fr, en: roof.class_label_en }))),
      figure(t('usableArea'), `${formatNumber(roof.usable_area_m2, 1)} m²`),
      figure(t('peakPower'), `${formatNumber(roof.peak_power_kwc, 2)} kWc`),
      figure(t('production'), `${formatNumber(roof.production_kwh_yr)} kWh`),
      figure(t('irradiation'), `${formatNumber(roof.irradiation_kwh_m2_yr)} kWh/m²`),
      figure(t('orientation'), `${formatNumber(roof.tilt_deg)}° / ${formatNumber(roof.azimuth_deg)}°`)));
}

export function openBuilding(properties) {
  const id = properties.id;
  runInPanel({
    kind: 'building',
    heading: () => `${t('building')} ${id}`,
    subtitle: () => [properties.commune, properties.usage, properties.type_toit].filter(Boolean).join(' — '),
    renderResult: solarResult,
  }, 'solar-potential', { batiments: [String(id)] });
}

// ---- popups: the SAFN sheet, any other feature -------------------------------------------

let popupView = null;

function fieldList(properties, fields, skip = []) {
  const entries = Object.entries(properties).filter(([key, value]) => value != null && value !== ''
    && !skip.includes(key));
  return h('dl', { className: 'fields' }, entries.map(([key, value]) => {
    const text = typeof value === 'string' && /^https?:\/\//.test(value)
      ? h('a', { href: value, target: '_blank', rel: 'noopener noreferrer' }, value)
      : typeof value === 'number' && !Number.isInteger(value) ? formatNumber(value, 2) : String(value);
    return [h('dt', {}, pick(fields[key]) || key), h('dd', {}, text)];
  }));
}

function drawPopup() {
  if (!popupView) return;
  popupView.popup.setDOMContent(popupView.render());
}

function showPopup(map, lngLat, render, className) {
  if (popupView) popupView.popup.remove();
  // the sheet hangs below the point: bring the point near the top of the map first
  map.easeTo({ center: lngLat, offset: [0, -0.3 * map.getContainer().clientHeight], duration: 300 });
  // no focus on open: it would scroll a long sheet down to its first link
  const popup = new Popup({ maxWidth: 'min(420px, 90vw)', anchor: 'top', focusAfterOpen: false, className });
  popupView = { popup, render };
  popup.setLngLat(lngLat).setDOMContent(render()).addTo(map);
  popup.on('close', () => { if (popupView?.popup === popup) popupView = null; });
}

export function openSafn(map, lngLat, properties, catalog) {
  const fields = catalog.safn.fields;
  const state = { status: 'loading' };
  const render = () => h('article', { className: 'sheet safn' },
    h('p', { className: 'kicker' }, t('safn')),
    h('h3', {}, state.feature?.properties.nom || properties.nom || properties.id),
    state.status === 'loading' ? spinner()
      : state.status === 'error' ? errorBox(state.error)
        : fieldList(state.feature.properties, fields, ['nom']));
  showPopup(map, lngLat, render, 'safn-popup');
  // the tiles carry few attributes: the sheet is the feature itself
  getJSON(`collections/safn/items/${encodeURIComponent(properties.id)}`, { f: 'json' })
    .then((feature) => Object.assign(state, { status: 'done', feature }))
    .catch((err) => Object.assign(state, { status: 'error',
      error: err instanceof ApiError ? err.texts : bothLanguages('networkError') }))
    .finally(drawPopup);
}

export function openFeature(map, lngLat, collection, properties, catalog) {
  const entry = catalog[collection.id] || { fields: {} };
  const name = entry.title_field ? properties[entry.title_field] : null;
  const render = () => h('article', { className: 'sheet' },
    h('p', { className: 'kicker' }, pick(collection.title)),
    name ? h('h3', {}, name) : null,
    fieldList(properties, entry.fields, [entry.title_field]));
  showPopup(map, lngLat, render, 'feature-popup');
}

onLanguageChange(() => {
  drawPanel();
  drawPopup();
});
