// Texts of the web map in French (first) and English. Data texts (collection and field
// titles) come from the server; these are only the interface's own words.

const TEXTS = {
  fr: {
    title: "Carte de l'Artois",
    subtitle: 'Agence d\'urbanisme de l\'Artois — données ouvertes',
    langButton: 'English',
    langButtonTitle: 'Switch to English',
    layers: 'Couches',
    layersShow: 'Afficher les couches',
    year: 'Été de la surchauffe',
    close: 'Fermer',
    map: 'Carte interactive',
    loading: 'Calcul en cours…',
    demo: 'démonstration',
    hint: 'Cliquez sur une friche, une commune, un bâtiment ou une fiche SAFN.',
    error: 'Erreur :',
    networkError: 'Le serveur ne répond pas. Vérifiez la connexion et réessayez.',
    httpError: 'Le serveur a répondu avec le statut {status}.',
    mapError: 'La carte n\'a pas pu charger une couche : {message}',
    zoomIn: 'Zoomez pour voir cette couche (niveau {zoom})',
    // friche panel
    friche: 'Friche',
    mutability: 'Mutabilité (méthode Mutafriches)',
    use: 'Usage',
    rank: 'Rang',
    index: 'Indice',
    potential: 'Potentiel',
    score: 'Av. / contr.',
    scoreTitle: 'Score des avantages / score des contraintes',
    excluded: 'exclu',
    reliability: 'Fiabilité',
    algorithm: 'Version de l\'algorithme',
    ficheLink: 'Fiche de la friche (imprimable)',
    territoryLink: 'Chiffres clés de la commune',
    // commune panel
    commune: 'Commune',
    riskMatrix: 'Matrice des risques environnementaux',
    risk: 'Risque',
    probability: 'Probabilité',
    gravity: 'Gravité',
    criticity: 'Criticité',
    notAssessed: 'non évalué',
    gridAlt: 'Grille gravité × probabilité des risques de {name}',
    riskMatrixSocietal: 'Matrice des risques sociétaux',
    matrixChoice: 'Matrice affichée',
    matrixEnvironmental: 'Environnementale',
    matrixSocietal: 'Sociétale',
    actions: 'Actions',
    preventive: 'Préventives',
    curative: 'Curatives',
    anticipate: 'Anticiper l\'aggravation',
    trend_rising: 'en hausse',
    trend_stable: 'stable',
    trend_falling: 'en baisse',
    // building panel
    building: 'Bâtiment',
    solar: 'Potentiel solaire de la toiture',
    usableArea: 'Surface utile',
    peakPower: 'Puissance crête',
    production: 'Production annuelle',
    solarClass: 'Classe',
    irradiation: 'Irradiation du plan',
    orientation: 'Inclinaison / azimut',
    // SAFN sheet
    safn: 'Fiche solution fondée sur la nature',
    attributes: 'Attributs',
  },
  en: {
    title: 'Artois map',
    subtitle: 'Artois urban-planning agency — open data',
    langButton: 'Français',
    langButtonTitle: 'Passer en français',
    layers: 'Layers',
    layersShow: 'Show the layers',
    year: 'Overheating summer',
    close: 'Close',
    map: 'Interactive map',
    loading: 'Computing…',
    demo: 'demonstration',
    hint: 'Click a brownfield, a municipality, a building or an NBS sheet.',
    error: 'Error:',
    networkError: 'The server does not answer. Check the connection and try again.',
    httpError: 'The server answered with status {status}.',
    mapError: 'The map could not load a layer: {message}',
    zoomIn: 'Zoom in to see this layer (level {zoom})',
    friche: 'Brownfield',
    mutability: 'Mutability (Mutafriches method)',
    use: 'Use',
    rank: 'Rank',
    index: 'Index',
    potential: 'Potential',
    score: 'Adv. / constr.',
    scoreTitle: 'Advantages score / constraints score',
    excluded: 'excluded',
    reliability: 'Reliability',
    algorithm: 'Algorithm version',
    ficheLink: 'Brownfield sheet (printable)',
    territoryLink: 'Key figures of the municipality',
    commune: 'Municipality',
    riskMatrix: 'Environmental risk matrix',
    risk: 'Risk',
    probability: 'Probability',
    gravity: 'Gravity',
    criticity: 'Criticity',
    notAssessed: 'not assessed',
    gridAlt: 'Gravity × probability grid of the risks of {name}',
    riskMatrixSocietal: 'Societal risk matrix',
    matrixChoice: 'Matrix shown',
    matrixEnvironmental: 'Environmental',
    matrixSocietal: 'Societal',
    actions: 'Actions',
    preventive: 'Preventive',
    curative: 'Curative',
    anticipate: 'Anticipate the worsening',
    trend_rising: 'rising',
    trend_stable: 'stable',
    trend_falling: 'falling',
    building: 'Building',
    solar: 'Solar potential of the roof',
    usableArea: 'Usable area',
    peakPower: 'Peak power',
    production: 'Yearly production',
    solarClass: 'Class',
    irradiation: 'Plane irradiation',
    orientation: 'Tilt / azimuth',
    safn: 'Nature-based solution sheet',
    attributes: 'Attributes',
  },
};

// The seven Mutafriches uses and the labels the process answers in French.
const USES = {
  residentiel: { fr: 'Résidentiel ou mixte', en: 'Housing or mixed use' },
  equipements: { fr: 'Équipements publics', en: 'Public facilities' },
  culture: { fr: 'Culturel, touristique', en: 'Culture, tourism' },
  tertiaire: { fr: 'Tertiaire', en: 'Offices' },
  industrie: { fr: 'Industriel, logistique', en: 'Industry, logistics' },
  renaturation: { fr: 'Renaturation', en: 'Renaturation' },
  photovoltaique: { fr: 'Photovoltaïque au sol', en: 'Ground photovoltaics' },
};
const LABELS_EN = {
  Excellent: 'Excellent', 'Très bon': 'Very good', Bon: 'Good', Moyen: 'Fair', Faible: 'Poor',
  Exclu: 'Excluded', 'Très fiable': 'Very reliable', Fiable: 'Reliable',
  'Moyennement fiable': 'Fairly reliable', 'Peu fiable': 'Not very reliable',
  'Très peu fiable': 'Very unreliable',
};

let current = document.documentElement.lang === 'en' ? 'en' : 'fr';
const listeners = [];

export function lang() {
  return current;
}

function format(language, key, params) {
  const text = TEXTS[language][key] ?? TEXTS.fr[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => params[name] ?? '');
}

export function t(key, params = {}) {
  return format(current, key, params);
}

/** Both languages of a text, for messages kept and shown again after a language switch. */
export function bothLanguages(key, params = {}) {
  return { fr: format('fr', key, params), en: format('en', key, params) };
}

/** Pick the reader's language from a {fr, en} object (or a plain string). */
export function pick(texts) {
  if (texts == null || typeof texts !== 'object') return texts ?? '';
  return texts[current] ?? texts.fr ?? Object.values(texts)[0];
}

export function useLabel(id) {
  return pick(USES[id]) || id;
}

export function processLabel(label) {
  return current === 'en' ? (LABELS_EN[label] ?? label) : label;
}

export function onLanguageChange(listener) {
  listeners.push(listener);
}

export function setLanguage(next) {
  current = next === 'en' ? 'en' : 'fr';
  document.documentElement.lang = current;
  const url = new URL(window.location.href);
  url.searchParams.set('lang', current);
  window.history.replaceState(null, '', url);
  translateStatic();
  listeners.forEach((listener) => listener(current));
}

/** Elements with data-i18n (text) or data-i18n-title / data-i18n-aria (attributes). */
export function translateStatic(root = document) {
  root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll('[data-i18n-title]').forEach((el) => { el.title = t(el.dataset.i18nTitle); });
  root.querySelectorAll('[data-i18n-aria]').forEach((el) => {
    el.setAttribute('aria-label', t(el.dataset.i18nAria));
  });
  document.title = `${t('title')} — artois-geo`;
}

export function formatNumber(value, digits = 0) {
  if (value == null || Number.isNaN(Number(value))) return '–';
  return Number(value).toLocaleString(current === 'en' ? 'en-GB' : 'fr-FR',
    { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}
