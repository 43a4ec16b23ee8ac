/**
 * Masking of phone numbers in logs (RGPD art. 5.1.c, data minimisation; CNIL
 * guidance on call logs): a number identifies a person, the log does not need it.
 *
 * Kept: the country code and the first national digit (they say where and which
 * kind of line: mobile, geographic, NPV…), and the last two digits (enough to tell
 * two calls apart when reading a log). Everything else becomes '*'.
 *   '+33612345678'   → '+336******78'
 *   '+596696123456'  → '+5966******56'
 *   '0612345678'     → '06******78'
 * Short numbers (fewer than 7 digits: emergency, 3BPQ services) are not personal
 * and are left as they are. Non-digit characters are kept, so 'anonymous' stays.
 */

/** Country codes of more than two digits that callgate meets (FR-RULES.md section 7). */
const THREE_DIGIT_CC = new Set([
  '590',
  '594',
  '596',
  '262',
  '269',
  '508',
  '681',
  '687',
  '689',
  '377',
  '352',
  '351',
  '353',
  '358',
  '359',
  '370',
  '371',
  '372',
  '373',
  '374',
  '375',
  '376',
  '380',
  '381',
  '382',
  '385',
  '386',
  '387',
  '389',
  '420',
  '421',
  '423',
  '212',
  '213',
  '216',
  '221',
  '225',
]);

function countryCodeLength(digits: string): number {
  if (digits[0] === '1' || digits[0] === '7') return 1;
  return THREE_DIGIT_CC.has(digits.slice(0, 3)) ? 3 : 2;
}

export function maskNumber(e164OrRaw: string): string {
  let digits = 0;
  for (let i = 0; i < e164OrRaw.length; i++) {
    const c = e164OrRaw.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
  }
  if (digits < 7) return e164OrRaw;
  const plus = e164OrRaw.indexOf('+');
  let keepHead: number;
  if (plus >= 0) {
    const all = e164OrRaw.replace(/\D/g, '');
    keepHead = countryCodeLength(all) + 1;
  } else {
    keepHead = 2;
  }
  const keepTail = 2;
  let out = '';
  let seen = 0;
  for (let i = 0; i < e164OrRaw.length; i++) {
    const ch = e164OrRaw[i]!;
    const c = ch.charCodeAt(0);
    if (c >= 48 && c <= 57) {
      out += seen < keepHead || seen >= digits - keepTail ? ch : '*';
      seen++;
    } else {
      out += ch;
    }
  }
  return out;
}

/**
 * The password of every URL in `text` (`http://user:secret@host` → `http://user:***@host`), and
 * the value of any password-like query parameter (`?password=…`, `sslkey=…`): an `asterisk.url` or
 * a `store.url` may carry credentials, and URLs are shown by `config check`, in log fields and in
 * error messages. The one place that hides them (the logger applies it to `url` fields). A
 * password that holds an unencoded `@` is masked up to the last `@`; masking too much is the safe
 * side.
 */
export function maskUrlCredentials(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s'"<>]*/gi, (url) => {
    const start = url.indexOf('://') + 3;
    const at = url.lastIndexOf('@');
    let out = url;
    if (at > start) {
      const userinfo = url.slice(start, at);
      const colon = userinfo.indexOf(':');
      if (colon >= 0) out = `${url.slice(0, start)}${userinfo.slice(0, colon)}:***${url.slice(at)}`;
    }
    return out.replace(/([?&][^=&#]*(?:pass|secret|key|token)[^=&#]*=)[^&#]*/gi, '$1***');
  });
}
