// The solar cadastre layer's popup (issue 18 point 2): a click on a roof of cadastre-solaire
// reads the roof from the API with the reader's credential (auth.js), so the popup shows what
// that credential may read: the public tier (class, irradiation, indicative production) for
// everyone, the métier tier (usable area, peak power, production, tilt, azimuth, shading) for
// keys of the group metier and admins. Fields the API does not return are not shown.
import { ApiError, getJSON } from './api.js';
import { bothLanguages, formatNumber, pick } from './i18n.js';
import { h } from './panels.js';
import { Popup } from '../vendor/maplibre-gl.mjs';

export { setupAuth } from './auth.js';

const CID = 'cadastre-solaire';
const TEXTS = {
  title: { fr: 'Cadastre solaire', en: 'Solar cadastre' },
  roof: { fr: 'Toiture du bâtiment', en: 'Roof of building' },
  demo: { fr: 'Données de démonstration (bâtiments modélisés)', en: 'Demonstration data (modelled buildings)' },
  metier: { fr: 'Interface métier', en: 'Métier interface' },
  public: { fr: 'Interface publique : connectez-vous avec une clé métier pour le détail.', en: 'Public interface: sign in with a métier key for the details.' },
  loading: { fr: 'Chargement…', en: 'Loading…' },
};
// property, label, unit, decimals; shown when the API returns it (métier ones last)
const FIELDS = [
  ['classe', { fr: 'Classe de potentiel', en: 'Potential class' }, '', 0],
  ['irradiation_kwh_m2_an', { fr: 'Irradiation', en: 'Irradiation' }, 'kWh/m²/an', 0],
  ['production_indicative_kwh_an', { fr: 'Production indicative', en: 'Indicative production' }, 'kWh/an', 0],
  ['commune', { fr: 'Commune', en: 'Municipality' }, '', null],
  ['type_toit', { fr: 'Type de toiture', en: 'Roof type' }, '', null],
];
const METIER = [
  ['surface_utile_m2', { fr: 'Surface utile', en: 'Usable area' }, 'm²', 1],
  ['puissance_kwc', { fr: 'Puissance installable', en: 'Peak power' }, 'kWc', 2],
  ['production_kwh_an', { fr: 'Production annuelle', en: 'Annual production' }, 'kWh/an', 0],
  ['productible_kwh_kwc_an', { fr: 'Productible', en: 'Specific yield' }, 'kWh/kWc/an', 0],
  ['inclinaison_deg', { fr: 'Inclinaison', en: 'Tilt' }, '°', 0],
  ['azimut_deg', { fr: 'Azimut (180 = sud)', en: 'Azimuth (180 = south)' }, '°', 0],
  ['perte_ombrage_pct', { fr: 'Perte d\'ombrage', en: 'Shading loss' }, '%', 1],
];

function rows(props, fields) {
  return fields.filter(([key]) => key in props).map(([key, label, unit, digits]) => {
    const value = props[key];
    const text = value == null ? '—'
      : (typeof value === 'number' && digits != null ? formatNumber(value, digits) : String(value));
    return [h('dt', {}, pick(label)), h('dd', { 'data-field': key }, unit && value != null ? `${text} ${unit}` : text)];
  });
}

let current = null;

export function openCadastre(map, lngLat, properties) {
  const id = properties.batiment_id;
  const state = { status: 'loading' };
  const render = () => {
    const props = state.feature?.properties || {};
    const metier = METIER.some(([key]) => key in props);
    return h('article', { className: 'sheet cadastre', 'data-tier': metier ? 'metier' : 'public' },
      h('p', { className: 'kicker' }, pick(TEXTS.title)),
      h('h3', {}, `${pick(TEXTS.roof)} ${id}`),
      state.status === 'loading' ? h('p', { role: 'status' }, pick(TEXTS.loading))
        : state.status === 'error' ? h('p', { className: 'error', role: 'alert' }, pick(state.error))
          : [h('dl', { className: 'fields' }, rows(props, FIELDS)),
            metier ? [h('h4', {}, pick(TEXTS.metier)), h('dl', { className: 'fields metier' }, rows(props, METIER))]
              : h('p', { className: 'hint' }, pick(TEXTS.public)),
            h('p', { className: 'hint' }, pick(TEXTS.demo))]);
  };
  if (current) current.remove();
  const popup = new Popup({ maxWidth: 'min(420px, 90vw)', focusAfterOpen: false, className: 'cadastre-popup' });
  current = popup;
  popup.setLngLat(lngLat).setDOMContent(render()).addTo(map);
  getJSON(`collections/${CID}/items/${encodeURIComponent(id)}`, { f: 'json' })
    .then((feature) => Object.assign(state, { status: 'done', feature }))
    .catch((err) => Object.assign(state, { status: 'error',
      error: err instanceof ApiError ? err.texts : bothLanguages('networkError') }))
    .finally(() => { if (current === popup) popup.setDOMContent(render()); });
}
