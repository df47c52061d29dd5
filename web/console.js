// ward moderation console. Plain JavaScript, no build step, no library.
// Everything from the server is put into the page with textContent, never
// as HTML: reported messages are written by whoever was reported.
'use strict';

(function () {
  const api = 'api/';
  let csrf = null;
  let me = null;
  let auditBefore = 0;

  const $ = (id) => document.getElementById(id);

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function when(ms) {
    if (!ms) return '';
    return new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  }

  function showError(msg) {
    $('error').textContent = msg || '';
  }

  // One request to the console's API. Every POST carries the CSRF token.
  async function call(method, path, body) {
    const headers = {};
    if (method !== 'GET') {
      headers['X-CSRF-Token'] = csrf || 'login';
      headers['Content-Type'] = 'application/json';
    }
    const res = await fetch(api + path, {
      method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    if (res.status !== 204) {
      try { data = await res.json(); } catch (e) { data = null; }
    }
    if (res.status === 401 && path !== 'login') {
      loggedOut();
    }
    return { status: res.status, data };
  }

  function errText(r) {
    return r.data && r.data.error ? r.data.error.message : 'HTTP ' + r.status;
  }

  const views = ['login-view', 'queue-view', 'report-view', 'audit-view', 'admin-view'];
  function show(view) {
    views.forEach((v) => { $(v).hidden = v !== view; });
    document.querySelectorAll('nav a').forEach((a) => {
      a.classList.toggle('active', a.getAttribute('href') === '#/' + view.replace('-view', ''));
    });
  }

  function loggedOut() {
    csrf = null;
    me = null;
    $('nav').hidden = true;
    $('session').hidden = true;
    const admin = $('nav-admin');
    if (admin) admin.remove();
    show('login-view');
  }

  function loggedIn(who) {
    me = who;
    csrf = who.csrf;
    $('whoami').textContent = who.name + ' (' + who.role + ')';
    $('nav').hidden = false;
    $('session').hidden = false;
    // Admin controls exist in the page only for admins (the server
    // refuses a moderator anyway).
    if (who.role === 'admin' && !$('nav-admin')) {
      const a = el('a', 'Admin');
      a.href = '#/admin';
      a.id = 'nav-admin';
      $('nav').appendChild(a);
    }
    route();
  }

  // ---- the queue ----

  async function loadQueue() {
    show('queue-view');
    const q = new URLSearchParams({
      status: $('filter-status').value,
      reason: $('filter-reason').value,
      priority: $('filter-priority').value,
    });
    const r = await call('GET', 'reports?' + q.toString());
    const tbody = $('queue-table').querySelector('tbody');
    tbody.replaceChildren();
    if (r.status !== 200) { showError(errText(r)); return; }
    showError('');
    r.data.reports.forEach((rep) => {
      const tr = el('tr', null, 'clickable');
      tr.dataset.id = rep.id;
      tr.appendChild(el('td', rep.id));
      tr.appendChild(el('td', rep.priority, rep.priority === 'high' ? 'priority-high' : ''));
      tr.appendChild(el('td', rep.reason.replace(/_/g, ' ')));
      tr.appendChild(el('td', rep.kind));
      tr.appendChild(el('td', rep.subject.name + ' (' + rep.subject.age_band + ')'));
      tr.appendChild(el('td', rep.reporter.name + ' (' + rep.reporter.age_band + ')'));
      tr.appendChild(el('td', when(rep.created_at)));
      tr.appendChild(el('td', rep.status + (rep.decision ? ': ' + rep.decision : '')));
      tr.addEventListener('click', () => { location.hash = '#/report/' + rep.id; });
      tbody.appendChild(tr);
    });
    $('queue-empty').hidden = r.data.reports.length > 0;
  }

  // ---- a report ----

  function fact(dl, name, value) {
    dl.appendChild(el('dt', name));
    dl.appendChild(el('dd', value));
  }

  function personText(p) {
    let t = p.name + ' (#' + p.id + ', ' + p.age_band + ')';
    const a = p.account;
    if (a && a.exists) {
      t += ', account ' + a.age_days + ' days old, ' + a.status;
      if (a.until) t += ' until ' + when(a.until);
    } else {
      t += ', account deleted';
    }
    return t;
  }

  async function loadReport(id) {
    show('report-view');
    $('decision-result').textContent = '';
    const r = await call('GET', 'reports/' + id);
    if (r.status !== 200) { showError(errText(r)); return; }
    showError('');
    const rep = r.data;
    $('report-title').textContent = 'Report #' + rep.id + ': ' + rep.reason.replace(/_/g, ' ');
    const facts = $('report-facts');
    facts.replaceChildren();
    fact(facts, 'Priority', rep.priority);
    fact(facts, 'Status', rep.status + (rep.decision ? ' (' + rep.decision + ')' : ''));
    fact(facts, 'Filed', when(rep.created_at));
    fact(facts, 'Kind', rep.kind);
    if (rep.group) {
      fact(facts, 'Group', rep.group.exists
        ? '"' + rep.group.name + '" (#' + rep.group.id + '), ' + rep.group.members + ' members now'
        : '#' + rep.group.id + ' (deleted since)');
    }
    fact(facts, 'Verification', rep.verification.verified
      ? 'verified: the server\'s franking tag and the sender\'s commitment match'
      : 'not verified');
    fact(facts, 'Attachment', rep.verification.attachment);
    fact(facts, 'Evidence held', rep.held ? 'yes' : 'no');

    const m = rep.message;
    $('report-body').textContent = m && m.decoded ? (m.body || '(no text)') : (m ? '(the content could not be decoded)' : '(an account report: no message)');
    const atts = $('report-attachments');
    atts.replaceChildren();
    if (m && m.attachments) {
      m.attachments.forEach((a) => {
        atts.appendChild(el('li', (a.file_name || 'attachment') + ', ' + a.content_type +
          ', ' + a.size + ' bytes, SHA-256 ' + a.sha256));
      });
    }
    const img = $('evidence-img');
    if (rep.evidence) {
      img.src = api + 'reports/' + rep.id + '/evidence';
      $('evidence').hidden = false;
    } else {
      img.removeAttribute('src');
      $('evidence').hidden = true;
    }
    $('report-note').textContent = rep.note || '(none)';

    const people = $('report-people');
    people.replaceChildren();
    fact(people, 'Subject', personText(rep.subject));
    fact(people, 'Reporter', personText(rep.reporter));

    const earlier = $('report-earlier');
    earlier.replaceChildren();
    rep.earlier_reports.forEach((e) => {
      const li = el('li');
      const a = el('a', '#' + e.id);
      a.href = '#/report/' + e.id;
      li.appendChild(a);
      li.appendChild(document.createTextNode(' ' + e.reason.replace(/_/g, ' ') + ', ' +
        when(e.created_at) + ', ' + e.status + (e.decision ? ': ' + e.decision : '')));
      earlier.appendChild(li);
    });
    if (!rep.earlier_reports.length) earlier.appendChild(el('li', 'none'));
    const dec = $('report-decisions');
    dec.replaceChildren();
    rep.decisions.forEach((d) => {
      dec.appendChild(el('li', when(d.at) + ' ' + d.moderator_name + ': ' + d.detail +
        (d.report ? ' (report #' + d.report + ')' : '')));
    });
    if (!rep.decisions.length) dec.appendChild(el('li', 'none'));
    $('decision-form').dataset.id = rep.id;
  }

  async function decide(ev) {
    ev.preventDefault();
    const id = $('decision-form').dataset.id;
    const action = $('decision-action').value;
    const body = { action };
    if (action === 'suspend') body.days = parseInt($('decision-days').value, 10);
    const note = $('decision-note').value;
    if (note) body.note = note;
    const r = await call('POST', 'reports/' + id + '/decision', body);
    if (r.status !== 200) {
      $('decision-result').textContent = 'Refused: ' + errText(r);
      return;
    }
    $('decision-result').textContent = 'Recorded: ' + r.data.decision +
      ' (report ' + r.data.status + ', account ' + r.data.account + ')';
    await loadReport(id);
    $('decision-result').textContent = 'Recorded: ' + r.data.decision +
      ' (report ' + r.data.status + ', account ' + r.data.account + ')';
  }

  // ---- the audit log ----

  async function loadAudit(more) {
    show('audit-view');
    if (!more) {
      auditBefore = 0;
      $('audit-table').querySelector('tbody').replaceChildren();
      $('audit-verify-result').textContent = '';
    }
    const q = auditBefore ? '?before=' + auditBefore + '&limit=50' : '?limit=50';
    const r = await call('GET', 'audit' + q);
    if (r.status !== 200) { showError(errText(r)); return; }
    showError('');
    const tbody = $('audit-table').querySelector('tbody');
    r.data.entries.forEach((e) => {
      const tr = el('tr');
      tr.dataset.action = e.action;
      tr.appendChild(el('td', e.id));
      tr.appendChild(el('td', when(e.at)));
      tr.appendChild(el('td', e.moderator_name));
      tr.appendChild(el('td', e.action));
      tr.appendChild(el('td', e.report || ''));
      tr.appendChild(el('td', e.subject || ''));
      const td = el('td', e.detail);
      td.appendChild(el('div', e.hash.slice(0, 16) + '…', 'hash'));
      tr.appendChild(td);
      tbody.appendChild(tr);
    });
    auditBefore = r.data.next_before || 0;
    $('audit-more').hidden = !auditBefore;
  }

  async function verifyAudit() {
    const r = await call('GET', 'audit/verify');
    $('audit-verify-result').textContent = r.status !== 200 ? errText(r)
      : r.data.intact ? 'intact' : 'broken at entry ' + r.data.first_bad;
  }

  // ---- admin ----

  async function loadAdmin() {
    show('admin-view');
    const r = await call('GET', 'moderators');
    const tbody = $('moderators-table').querySelector('tbody');
    tbody.replaceChildren();
    if (r.status !== 200) { showError(errText(r)); return; }
    showError('');
    r.data.moderators.forEach((m) => {
      const tr = el('tr');
      tr.appendChild(el('td', m.id));
      tr.appendChild(el('td', m.name));
      tr.appendChild(el('td', m.role));
      tr.appendChild(el('td', m.disabled ? 'disabled' : 'active'));
      const td = el('td');
      if (me && m.id !== me.id) {
        const b = el('button', m.disabled ? 'Enable' : 'Disable');
        b.type = 'button';
        b.addEventListener('click', () => changeModerator(m.id, { disabled: !m.disabled }));
        td.appendChild(b);
        const b2 = el('button', m.role === 'admin' ? 'Make moderator' : 'Make admin');
        b2.type = 'button';
        b2.addEventListener('click', () => changeModerator(m.id, { role: m.role === 'admin' ? 'moderator' : 'admin' }));
        td.appendChild(b2);
      }
      tr.appendChild(td);
      tbody.appendChild(tr);
    });
  }

  async function changeModerator(id, body) {
    const r = await call('POST', 'moderators/' + id, body);
    $('admin-result').textContent = r.status === 200 ? 'Changed ' + r.data.name : 'Refused: ' + errText(r);
    loadAdmin();
  }

  async function addModerator(ev) {
    ev.preventDefault();
    const r = await call('POST', 'moderators', {
      name: $('add-name').value, password: $('add-password').value, role: $('add-role').value,
    });
    $('add-password').value = '';
    $('admin-result').textContent = r.status === 201 ? 'Added ' + r.data.name : 'Refused: ' + errText(r);
    loadAdmin();
  }

  async function lift(ev) {
    ev.preventDefault();
    const r = await call('POST', 'accounts/' + $('lift-id').value + '/status', { status: 'active' });
    $('admin-result').textContent = r.status === 200 ? r.data.username + ' is active again' : 'Refused: ' + errText(r);
  }

  // ---- session ----

  async function login(ev) {
    ev.preventDefault();
    $('login-error').textContent = '';
    const r = await call('POST', 'login', {
      name: $('login-name').value, password: $('login-password').value,
    });
    $('login-password').value = '';
    if (r.status !== 200) {
      $('login-error').textContent = r.status === 429 ? 'Too many attempts; wait a minute.' : errText(r);
      return;
    }
    if (!location.hash || location.hash === '#/') location.hash = '#/queue';
    loggedIn(r.data);
  }

  async function logout() {
    await call('POST', 'logout');
    loggedOut();
  }

  function route() {
    if (!me) return;
    const h = location.hash || '#/queue';
    let m;
    if ((m = /^#\/report\/(\d+)$/.exec(h))) loadReport(m[1]);
    else if (h === '#/audit') loadAudit(false);
    else if (h === '#/admin' && me.role === 'admin') loadAdmin();
    else loadQueue();
  }

  async function start() {
    $('login-form').addEventListener('submit', login);
    $('logout').addEventListener('click', logout);
    $('filters').addEventListener('change', loadQueue);
    $('decision-form').addEventListener('submit', decide);
    $('decision-action').addEventListener('change', () => {
      $('decision-days-label').hidden = $('decision-action').value !== 'suspend';
    });
    $('audit-more').addEventListener('click', () => loadAudit(true));
    $('audit-verify').addEventListener('click', verifyAudit);
    $('add-moderator-form').addEventListener('submit', addModerator);
    $('lift-form').addEventListener('submit', lift);
    window.addEventListener('hashchange', route);
    const r = await call('GET', 'me');
    if (r.status === 200) loggedIn(r.data);
    else loggedOut();
  }

  document.addEventListener('DOMContentLoaded', start);
}());
