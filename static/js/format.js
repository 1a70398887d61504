// Bet-That: one way to write numbers and names in the browser, the same rules as
// betthat/core/formatting.py. The viewer's odds format sits on <html data-odds-format>, the
// names registry in the #bt-names JSON script that base.html renders.
(function () {
  "use strict";
  const BT = (window.BT = window.BT || {});
  const DASH = "\u2013";
  let names = null;

  function registry() {
    if (names) return names;
    const node = document.getElementById("bt-names");
    try { names = node ? JSON.parse(node.textContent) : {}; } catch (e) { names = {}; }
    return names;
  }

  function humanise(key) {
    const words = String(key || "").replace(/_/g, " ").trim();
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  // Python's Fraction.limit_denominator, on the exact value of a decimal string.
  function limitDenominator(n, d, max) {
    let p0 = 0, q0 = 1, p1 = 1, q1 = 0;
    const n0 = n, d0 = d;
    while (d !== 0) {
      const a = Math.floor(n / d);
      const q2 = q0 + a * q1;
      if (q2 > max) break;
      [p0, q0, p1, q1] = [p1, q1, p0 + a * p1, q2];
      [n, d] = [d, n - a * d];
    }
    if (d === 0) return [p1, q1];
    const k = Math.floor((max - q0) / q1);
    const b1 = [p0 + k * p1, q0 + k * q1], b2 = [p1, q1];
    // compare |b2 - x| <= |b1 - x| exactly: x = n0/d0
    const e2 = Math.abs(b2[0] * d0 - n0 * b2[1]) * b1[1];
    const e1 = Math.abs(b1[0] * d0 - n0 * b1[1]) * b2[1];
    return e2 <= e1 ? b2 : b1;
  }
  function gcd(a, b) { while (b) [a, b] = [b, a % b]; return a; }

  function decimalParts(text) {
    const m = /^(\d+)(?:\.(\d{1,9}))?/.exec(String(text).trim());
    if (!m) return null;
    const frac = m[2] || "";
    return [Number(m[1] + frac), Math.pow(10, frac.length)];
  }

  // The one odds conversion (betthat/core/odds.py) in exact integer arithmetic: the nearest
  // American integer, half away from zero, on the exact decimal price (2.125 -> +113).
  function exactParts(price) {
    const m = /^(\d+)(?:\.(\d+))?$/.exec(String(price).trim());
    if (!m) return null;
    const frac = m[2] || "";
    return [BigInt(m[1] + frac), 10n ** BigInt(frac.length)];
  }

  function americanFrom(price) {
    const parts = exactParts(price);
    if (!parts) return null;
    const [num, den] = parts; // price = num / den
    if (num <= den) return null;
    const profit = num - den; // price - 1 = profit / den
    // floor(x + 1/2) for x >= 0 is x rounded half away from zero
    if (num >= 2n * den) return Number((200n * profit + den) / (2n * den));
    return -Number((200n * den + profit) / (2n * profit));
  }

  const fmt = (BT.fmt = {
    oddsFormat() {
      const f = document.documentElement.dataset.oddsFormat;
      return f === "decimal" || f === "fractional" ? f : "american";
    },
    americanFrom,
    // price: decimal odds (string or number); american: the book's integer if known
    odds(price, american) {
      if (price == null || price === "" || !(Number(price) > 1)) return DASH;
      const f = fmt.oddsFormat();
      if (f === "decimal") { const d = Number(price); return d >= 10 ? d.toFixed(2) : d.toFixed(3); }
      if (f === "fractional") {
        const parts = decimalParts(price);
        if (!parts) return DASH;
        const [num, den] = parts; // price = num/den; price - 1 = (num - den)/den
        const g = gcd(num - den, den);
        const [p, q] = limitDenominator((num - den) / g, den / g, 100);
        return p + "/" + q;
      }
      const a = american != null && american !== "" ? Number(american) : americanFrom(price);
      return a == null ? DASH : a > 0 ? "+" + a : String(a);
    },
    // The user's IANA zone from the page (blank until chosen or reported: then the browser's).
    timeZone() { return document.documentElement.dataset.timeZone || undefined; },
    // A time in the user's zone as the pages print it: "Dec 4, 15:39", or "15:39" for "clock".
    when(iso, style) {
      const d = new Date(iso);
      if (iso == null || iso === "" || isNaN(d.getTime())) return DASH;
      const opts = { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: fmt.timeZone() };
      if (style !== "clock") { opts.month = "short"; opts.day = "numeric"; }
      try { return new Intl.DateTimeFormat("en-US", opts).format(d); }
      catch (e) { delete opts.timeZone; return new Intl.DateTimeFormat("en-US", opts).format(d); }
    },
    amount(minor) {
      if (minor == null || minor === "") return DASH;
      let v = BigInt(minor); const negative = v < 0n; if (negative) v = -v;
      const whole = (v / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
      return (negative ? "-" : "") + whole + "." + (v % 100n).toString().padStart(2, "0");
    },
    money(minor, currency) {
      const text = fmt.amount(minor);
      return text === DASH ? text : text + " " + (currency || "USD");
    },
    percent(ratio, places, signed) {
      if (ratio == null || ratio === "" || isNaN(Number(ratio))) return DASH;
      const p = places == null ? 1 : places;
      let v = Number(ratio) * 100;
      let text = v.toFixed(p);
      if (Number(text) === 0) text = (0).toFixed(p);
      return (signed && Number(text) > 0 ? "+" : "") + text + "%";
    },
    market(key) { return (registry().markets || {})[key] || humanise(key); },
    book(key, title) { return (registry().books || {})[key] || title || humanise(key); },
    state(value) { const k = String(value || "").toLowerCase(); return (registry().states || {})[k] || humanise(k); },
    kind(value) { return (registry().kinds || {})[value] || humanise(value); },
  });
})();
