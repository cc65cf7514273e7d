// Words people choose as passwords, lower case, letters only: a SIP password
// that is one of them with only digits or punctuation around it is refused
// (src/model/user-rules.ts). Kept short on purpose: the attacks on SIP are
// dictionary runs of exactly these, and a long list belongs to a password
// manager, not to a PBX.
export const COMMON_PASSWORD_WORDS: ReadonlySet<string> = new Set([
  'password', 'passwort', 'passw', 'pass', 'passwd', 'secret', 'geheim', 'letmein', 'welcome', 'willkommen', 'hello',
  'qwerty', 'qwertz', 'azerty', 'asdf', 'asdfgh', 'qwertyuiop', 'zxcvbn', 'admin', 'administrator', 'root', 'changeme',
  'default', 'guest', 'user', 'test', 'testing', 'demo', 'sip', 'voip', 'phone', 'telefon', 'telephone', 'asterisk',
  'freepbx', 'pbx', 'switchboard', 'avaya', 'cisco', 'polycom', 'yealink', 'snom', 'linksys', 'dragon', 'monkey',
  'football', 'baseball', 'iloveyou', 'trustno', 'sunshine', 'master', 'login', 'abc', 'shadow', 'superman', 'batman',
  'princess', 'starwars', 'summer', 'winter', 'spring', 'autumn', 'office', 'company', 'extension', 'voicemail',
]);
