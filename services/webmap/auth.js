// Sign-in of the web map (issue 18): the reader types an API key (a key of the group metier
// opens the métier fields of the solar cadastre). The key is kept in sessionStorage: this tab
// only, gone when it closes, never in a cookie or in an address. It is sent as X-API-Key with
// the map's requests to this server: the JSON ones through api.js (authHeaders), the tiles
// through MapLibre's transformRequest (setupAuth). Signing in or out reloads the page, so
// that the layer list, the tiles and the popups are all those of the new credential.
import { pick, onLanguageChange } from './i18n.js';

const STORE = 'artois-api-key';
const TEXTS = {
  signIn: { fr: 'Se connecter', en: 'Sign in' },
  signOut: { fr: 'Se déconnecter', en: 'Sign out' },
  key: { fr: 'Clé d\'accès', en: 'Access key' },
  keyHelp: { fr: 'Clé d\'API fournie par l\'agence (interface métier)', en: 'API key given by the agency (métier interface)' },
  signedIn: { fr: 'Connecté', en: 'Signed in' },
};
const say = (key) => pick(TEXTS[key]);

export function apiKey() {
  try {
    return sessionStorage.getItem(STORE) || '';
  } catch {
    return ''; // storage refused (private mode): anonymous
  }
}

/** The headers of a request to this server with the reader's credential, if any. */
export function authHeaders() {
  const key = apiKey();
  return key ? { 'X-API-Key': key } : {};
}

function setKey(value) {
  try {
    if (value) sessionStorage.setItem(STORE, value);
    else sessionStorage.removeItem(STORE);
  } catch {
    // nothing kept: the page stays anonymous
  }
  window.location.reload();
}

function form() {
  const box = document.createElement('form');
  box.id = 'sign-in';
  box.className = 'sign-in';
  box.style.cssText = 'display:flex;gap:.25rem;align-items:center;font-size:.85rem';
  const draw = () => {
    box.replaceChildren();
    if (apiKey()) {
      const state = document.createElement('span');
      state.className = 'signed-in';
      state.textContent = say('signedIn');
      const out = document.createElement('button');
      out.type = 'button';
      out.id = 'sign-out';
      out.textContent = say('signOut');
      out.addEventListener('click', () => setKey(''));
      box.append(state, out);
    } else {
      const input = document.createElement('input');
      input.type = 'password';
      input.id = 'api-key';
      input.autocomplete = 'off';
      input.maxLength = 200;
      input.style.width = '9rem';
      input.placeholder = say('key');
      input.title = say('keyHelp');
      input.setAttribute('aria-label', say('key'));
      const go = document.createElement('button');
      go.type = 'submit';
      go.textContent = say('signIn');
      box.append(input, go);
    }
  };
  box.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = (box.querySelector('#api-key')?.value || '').trim();
    if (value) setKey(value);
  });
  draw();
  onLanguageChange(draw);
  return box;
}

/** The sign-in form in the header, and the credential on the map's tile requests. */
export function setupAuth(map, root) {
  const header = document.querySelector('header');
  const lang = document.getElementById('lang-toggle');
  if (header && !document.getElementById('sign-in')) header.insertBefore(form(), lang);
  const key = apiKey();
  if (key && map.setTransformRequest) {
    map.setTransformRequest((address) => (address.startsWith(root)
      ? { url: address, headers: { 'X-API-Key': key } } : { url: address }));
  }
}
