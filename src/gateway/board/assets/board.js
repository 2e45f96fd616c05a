// The board's script: holds the admin key in memory only, reads the admin API, draws with uPlot.
// Every value from the server is written with textContent, never as markup.
'use strict';
(() => {
  const REFRESH_MS = 5000;
  let apiKey = null;
  let timer = null;
  let charts = null;
  let filters = {};
  let nextCursor = null;
  let openId = null;
  let operator = false;

  const $ = (id) => document.getElementById(id);
  const el = (tag, text, className) => {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  };
  const seconds = (value) => (value === null || value === undefined ? '—' : value < 120 ? `${value.toFixed(1)} s` : `${(value / 60).toFixed(1)} min`);
  const rate = (value) => `${value.toFixed(2)}/s`;
  const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

  class ApiError extends Error {
    constructor(status, problem) {
      super(problem?.detail || `HTTP ${status}`);
      this.status = status;
    }
  }

  async function api(path, init = {}) {
    const headers = { 'x-api-key': apiKey, accept: 'application/json' };
    if (init.body) headers['content-type'] = 'application/json';
    const response = await fetch(path, { ...init, headers, cache: 'no-store', credentials: 'omit' });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  }

  function signedOut(message) {
    apiKey = null;
    clearInterval(timer);
    $('board').hidden = true;
    $('sign-out').hidden = true;
    $('sign-in').hidden = false;
    $('who').textContent = '';
    $('sign-in-error').textContent = message || '';
  }

  function explain(error) {
    if (error.status === 401) return 'This API key is not valid.';
    if (error.status === 403) return 'This API key lacks the admin scope: the board shows nothing without it.';
    if (error.status === 503) return 'A database is unavailable; retrying.';
    return error.message;
  }

  // ---- overview ----
  function figure(list, label, value, warn) {
    const box = el('div', undefined, warn ? 'warn' : undefined);
    const term = el('dt', label);
    const data = el('dd', value);
    data.dataset.figure = label;
    box.append(term, data);
    list.append(box);
  }

  function drawCharts(timeline) {
    const xs = timeline.accepted.map((_, i) => (timeline.start + i * timeline.bucketSeconds * 1000) / 1000);
    const perSecond = (series) => series.map((n) => n / timeline.bucketSeconds);
    const rates = [xs, perSecond(timeline.accepted), perSecond(timeline.processed), perSecond(timeline.failed), perSecond(timeline.dead)];
    const backlog = [xs, timeline.backlog];
    const width = Math.max(320, $('chart-rates').parentElement.clientWidth - 20);
    if (!charts && window.uPlot) {
      charts = {
        rates: new window.uPlot(
          {
            width,
            height: 220,
            series: [
              {},
              { label: 'accepted', stroke: '#0969da' },
              { label: 'processed', stroke: '#1a7f37' },
              { label: 'failed', stroke: '#bf8700' },
              { label: 'dead', stroke: '#cf222e' },
            ],
          },
          rates,
          $('chart-rates'),
        ),
        backlog: new window.uPlot({ width, height: 220, series: [{}, { label: 'backlog', stroke: '#8250df', fill: 'rgba(130,80,223,0.1)' }] }, backlog, $('chart-backlog')),
      };
    } else if (charts) {
      charts.rates.setData(rates);
      charts.backlog.setData(backlog);
    }
  }

  function showOverview(o) {
    operator = o.operator;
    $('tenant-filter').hidden = !operator;
    $('who').textContent = operator ? `operator key: ${o.tenantId ? `tenant ${o.tenantId}` : 'all tenants'}` : `tenant ${o.tenantId}`;
    $('updated').textContent = `updated ${new Date(o.generatedAt).toLocaleTimeString()}, every ${REFRESH_MS / 1000} s`;
    const list = $('figures');
    list.replaceChildren();
    figure(list, 'Backlog', o.backlog);
    figure(list, 'Oldest unprocessed', seconds(o.oldestUnprocessedAgeSeconds), o.oldestUnprocessedAgeSeconds > 300);
    figure(list, 'Accepted', rate(o.acceptedPerSecond));
    figure(list, 'Processed', rate(o.processedPerSecond));
    figure(list, 'Processed (total)', o.processed);
    figure(list, 'Failed', o.failed, o.failed > 0);
    figure(list, 'Dead', o.dead, o.dead > 0);
    figure(list, 'Mode', o.mode, o.mode !== 'change-stream+sweep');
    figure(list, 'Change-stream lag', seconds(o.changeStreamLagSeconds));
    figure(list, 'Resume token age', seconds(o.resumeTokenAgeSeconds));
    const processors = $('processors').tBodies[0];
    processors.replaceChildren(
      ...o.processors.map((p) => row([p.worker, p.group, p.mode, seconds(p.lastEventAgeSeconds), seconds(p.checkpointAgeSeconds), seconds(p.seenAgeSeconds)])),
    );
    if (o.processors.length === 0) processors.append(row(['no processor has reported in the last 30 s', '', '', '', '', '']));
    $('tenants').tBodies[0].replaceChildren(
      ...o.tenants.map((t) => row([t.tenantId, rate(t.acceptedPerSecond), rate(t.processedPerSecond), t.backlog, `${t.refused.rate} / ${t.refused.waiting} / ${t.refused['waiting-bytes']} / ${t.refused['daily-bytes']}`])),
    );
    $('quotas').textContent = `Quotas per tenant: ${o.quotas.docsPerSecond} documents accepted per second, ${o.quotas.maxUnprocessed} not yet processed holding at most ${o.quotas.maxWaitingBytes} bytes, ${o.quotas.maxBytesPerDay} bytes accepted per day (UTC); refusals counted by this gateway since it started.`;
    const days = (s) => (s % 86400 === 0 ? `${s / 86400} days` : `${s} s`);
    $('retention').textContent = `Retention: processed raw documents are removed ${days(o.retention.processedSeconds)} after processing, processing logs ${days(
      o.retention.logsSeconds,
    )} after they are written; dead documents ${o.retention.deadSeconds ? `${days(o.retention.deadSeconds)} after they died` : 'until replayed'}, statements ${
      o.retention.statementsSeconds
        ? `${days(o.retention.statementsSeconds)} after their last entry settled, died or was replayed (their files that long after upload)`
        : 'and their files for ever'
    }.`;
    drawCharts(o.timeline);
  }

  function row(cells) {
    const tr = document.createElement('tr');
    for (const cell of cells) tr.append(cell instanceof Node ? wrap(cell) : el('td', cell));
    return tr;
  }
  const wrap = (node) => {
    const td = document.createElement('td');
    td.append(node);
    return td;
  };

  async function refresh() {
    try {
      showOverview(await api(overviewPath()));
      await loadReconciliation();
      await loadWebhooks();
    } catch (error) {
      if (error.status === 401 || error.status === 403) return signedOut(explain(error));
      $('updated').textContent = explain(error);
    }
  }

  /** The overview follows the tenant filter (operator keys only; others always see their tenant). */
  const overviewPath = () => `/api/v1/admin/board/overview${filters.tenant ? `?tenant=${encodeURIComponent(filters.tenant)}` : ''}`;

  // ---- reconciliation ----
  const sumText = (sums) =>
    sums.length ? sums.map((s) => `${s.currency} ${s.direction} ${s.rowsMinor} / ${s.documentsMinor}`).join('; ') : '—';

  /** The stored days of the last 30 (the tenant filter's, for operator keys) and their mismatches. */
  async function loadReconciliation() {
    const params = new URLSearchParams({ limit: '100' });
    if (filters.tenant) params.set('tenant', filters.tenant);
    const r = await api(`/api/v1/admin/reconciliation?${params}`);
    const run = r.lastRun;
    $('reconciliation-run').textContent = run
      ? `Last run: ${run.mode} (${run.trigger}), ${when(run.startedAt)}: ${run.error ? `failed: ${run.error}` : run.finishedAt ? `${run.days} days, ${run.documents} documents, ${run.mismatches} mismatch${run.mismatches === 1 ? '' : 'es'}` : 'running'}`
      : 'No reconciliation has run yet: a processor runs it every RECONCILE_INTERVAL_SECONDS, or run `prismo reconcile --mode full`.';
    $('reconciliation-days').tBodies[0].replaceChildren(
      ...r.days.map((d) => {
        const tr = row([d.day, d.tenantId, d.source, d.accepted, d.processed, d.failed, d.dead, d.waiting, d.rows, `${d.revisions} / ${d.voids} / ${d.replaced} / ${d.aliases}`, sumText(d.sums), d.mismatches, d.retentionRemoved ? `${when(d.reconciledAt)} (documents past retention: last summary)` : when(d.reconciledAt)]);
        if (d.mismatches > 0) tr.className = 'warn-row';
        return tr;
      }),
    );
    $('reconciliation-mismatches').tBodies[0].replaceChildren(
      ...r.mismatches.map((m) => {
        const open = el('button', m.id, 'link');
        open.type = 'button';
        open.addEventListener('click', () => openDocument(m.id));
        const tr = row([m.kind, open, m.tenantId, m.source, m.day, m.detail]);
        tr.dataset.id = m.id;
        return tr;
      }),
    );
    $('reconciliation-message').textContent = r.mismatches.length === 0 ? 'None: every accepted document of these days is its row.' : r.moreMismatches ? 'The first 100 are shown: `prismo reconcile --json` lists them all.' : '';
  }

  // ---- documents ----
  function filterQuery() {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(filters)) if (value) params.set(name, value);
    return params;
  }

  function readFilters() {
    const form = new FormData($('filters'));
    const iso = (value) => (value ? new Date(value).toISOString() : '');
    filters = {
      tenant: operator ? String(form.get('tenant') || '').trim() : '',
      status: form.get('status') || '',
      source: String(form.get('source') || '').trim(),
      error: String(form.get('error') || '').trim(),
      from: iso(form.get('from')),
      to: iso(form.get('to')),
    };
  }

  async function loadDocuments(append) {
    const params = filterQuery();
    params.set('limit', '25');
    if (append && nextCursor) params.set('starting_after', nextCursor);
    try {
      const page = await api(`/api/v1/admin/documents?${params}`);
      const body = $('documents').tBodies[0];
      if (!append) body.replaceChildren();
      for (const doc of page.data) {
        const open = el('button', doc.id, 'link');
        open.type = 'button';
        open.addEventListener('click', () => openDocument(doc.id));
        const tr = row([open, doc.tenantId, doc.status, doc.source, doc.attempts, doc.lastError ?? '', when(doc.receivedAt)]);
        tr.cells[5].className = 'error-text';
        tr.dataset.id = doc.id;
        body.append(tr);
      }
      nextCursor = page.next_starting_after;
      $('next-page').hidden = !nextCursor;
      $('documents-message').textContent = body.rows.length === 0 ? 'No failed or dead documents match.' : '';
    } catch (error) {
      $('documents-message').textContent = explain(error);
    }
  }

  /** The list's filters as the replay endpoint's selection. */
  function selection() {
    const chosen = {};
    if (filters.tenant) chosen.tenantId = filters.tenant;
    if (filters.status) chosen.statuses = [filters.status];
    for (const name of ['source', 'error', 'from', 'to']) if (filters[name]) chosen[name] = filters[name];
    return chosen;
  }

  async function askReplaySet() {
    try {
      const dry = await api('/api/v1/admin/replay', { method: 'POST', body: JSON.stringify({ ...selection(), dryRun: true }) });
      if (dry.matched === 0) {
        $('documents-message').textContent = 'No document matches these filters: nothing to replay.';
        return;
      }
      const where = operator && !filters.tenant ? ' in every tenant' : '';
      $('replay-confirm-text').textContent = `Replay ${dry.matched} document${dry.matched === 1 ? '' : 's'} matching these filters${where}? Their attempts start again from zero.`;
      $('replay-confirm').hidden = false;
    } catch (error) {
      $('documents-message').textContent = explain(error);
    }
  }

  async function replaySet() {
    $('replay-confirm').hidden = true;
    try {
      const result = await api('/api/v1/admin/replay', { method: 'POST', body: JSON.stringify({ ...selection(), dryRun: false }) });
      await loadDocuments(false);
      $('documents-message').textContent = `Replayed ${result.replayed} of ${result.matched} documents.`;
      await refresh();
    } catch (error) {
      $('documents-message').textContent = explain(error);
    }
  }

  // ---- one document ----
  async function openDocument(id) {
    openId = id;
    $('detail-message').textContent = '';
    try {
      showDetail(await api(`/api/v1/admin/documents/${encodeURIComponent(id)}`));
      $('detail').hidden = false;
      $('detail').scrollIntoView({ block: 'start' });
    } catch (error) {
      $('documents-message').textContent = explain(error);
    }
  }

  function showDetail(detail) {
    const d = detail.document;
    $('detail-id').textContent = d.id;
    const list = $('detail-figures');
    list.replaceChildren();
    figure(list, 'Status', d.status, d.status === 'dead' || d.status === 'failed');
    figure(list, 'Attempts', d.attempts);
    figure(list, 'Tenant', d.tenantId);
    figure(list, 'Source', d.source);
    figure(list, 'External id', d.externalId ?? '—');
    figure(list, 'Received', when(d.receivedAt));
    figure(list, 'Processed', when(d.processedAt));
    $('detail-error').textContent = d.lastError ?? 'none';
    $('detail-payload').textContent = JSON.stringify(d.payload, null, 2);
    $('correct-json').value = JSON.stringify(d.payload, null, 2);
    const replayable = d.status === 'failed' || d.status === 'dead';
    $('replay-one').hidden = !replayable;
    $('correct').hidden = !replayable;
    $('detail-logs').tBodies[0].replaceChildren(...detail.logs.map((l) => row([when(l.at), l.outcome, l.worker, l.batchId, l.error ?? ''])));
    $('detail-corrections').replaceChildren(
      ...d.corrections.map((c) => el('li', `${when(c.at)} by key ${c.by}; previous payload: ${JSON.stringify(c.previous)}`)),
    );
    const { revisions = [], ...transaction } = detail.transaction ?? {};
    $('detail-transaction').textContent = detail.transactionUnavailable
      ? 'PostgreSQL is unavailable right now; the row cannot be shown.'
      : detail.transaction
        ? JSON.stringify(transaction, null, 2)
        : 'Not written yet: the document is not processed.';
    // Each revision the provider sent of this object, and what it changed ("field: from → to").
    const changes = (r) =>
      Object.entries(r.changes)
        .map(([field, c]) => `${field}: ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`)
        .join('; ');
    $('detail-revisions').tBodies[0].replaceChildren(
      ...revisions.map((r) => row([when(r.receivedAt), r.rawId === d.id ? `${r.rawId} (this one)` : r.rawId, r.outcome, changes(r) || '—'])),
    );
  }

  async function replayOne() {
    try {
      const result = await api('/api/v1/admin/replay', { method: 'POST', body: JSON.stringify({ ids: [openId] }) });
      $('detail-message').textContent = result.replayed === 1 ? 'Replayed: back in line.' : 'Nothing replayed (the document is no longer failed or dead).';
      await followDocument();
    } catch (error) {
      $('detail-message').textContent = explain(error);
    }
  }

  async function correct() {
    let payload;
    try {
      payload = JSON.parse($('correct-json').value);
    } catch (error) {
      $('detail-message').textContent = `Not JSON: ${error.message}`;
      return;
    }
    try {
      await api(`/api/v1/admin/documents/${encodeURIComponent(openId)}/payload`, { method: 'POST', body: JSON.stringify({ payload }) });
      $('detail-message').textContent = 'Corrected and replayed: back in line.';
      await followDocument();
    } catch (error) {
      $('detail-message').textContent = explain(error);
    }
  }

  /** After an action, the document's page follows it until it is processed or fails again (up to a minute). */
  async function followDocument() {
    const id = openId;
    const deadline = Date.now() + 60_000;
    while (openId === id && Date.now() < deadline) {
      const detail = await api(`/api/v1/admin/documents/${encodeURIComponent(id)}`).catch(() => null);
      if (detail) {
        showDetail(detail);
        if (detail.document.status !== 'pending') break;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    await loadDocuments(false);
    await refresh();
  }

  // ---- webhooks ----
  let deliveriesOf = null;

  function endpointState(e) {
    if (!e.enabled) return e.disabledReason ? `disabled: ${e.disabledReason}` : 'disabled';
    return e.failingSince ? `failing since ${when(e.failingSince)}` : 'healthy';
  }

  async function loadWebhooks() {
    const { data } = await api('/api/v1/webhook-endpoints');
    $('webhooks-message').textContent = data.length === 0 ? 'No endpoint: POST /api/v1/webhook-endpoints creates one.' : '';
    $('webhook-endpoints').tBodies[0].replaceChildren(
      ...data.map((e) => {
        const tr = row([e.id, e.url, e.events.join(', '), endpointState(e), e.lastError ?? '']);
        if (!e.enabled || e.failingSince) tr.className = 'warn-row';
        const show = el('button', 'Deliveries');
        show.type = 'button';
        show.addEventListener('click', () => loadDeliveries(e.id));
        const cell = el('td');
        cell.append(show);
        tr.append(cell);
        return tr;
      }),
    );
    if (deliveriesOf) await loadDeliveries(deliveriesOf);
  }

  async function loadDeliveries(endpointId) {
    deliveriesOf = endpointId;
    const { data } = await api(`/api/v1/webhook-endpoints/${encodeURIComponent(endpointId)}/deliveries?limit=50`);
    $('deliveries-box').hidden = false;
    $('deliveries-endpoint').textContent = endpointId;
    $('deliveries').tBodies[0].replaceChildren(
      ...data.map((d) => {
        const answer = d.status !== null ? `HTTP ${d.status}` : d.error;
        const tr = row([when(d.at), d.eventId, d.eventType ?? '(no longer kept)', d.resend ? `${d.attempt} (resend)` : d.attempt, answer, `${d.durationMs} ms`, d.delayMs === null ? '—' : `${d.delayMs} ms`]);
        if (d.status === null || d.status < 200 || d.status > 299) tr.className = 'warn-row';
        const resend = el('button', 'Resend');
        resend.type = 'button';
        resend.addEventListener('click', () => resendEvent(endpointId, d.eventId));
        const cell = el('td');
        cell.append(resend);
        tr.append(cell);
        return tr;
      }),
    );
    return data;
  }

  /** Asks for the resend, then follows the deliveries until its attempt shows (up to half a minute). */
  async function resendEvent(endpointId, eventId) {
    try {
      const asked = await api(`/api/v1/webhook-endpoints/${encodeURIComponent(endpointId)}/resends`, { method: 'POST', body: JSON.stringify({ eventId }) });
      $('deliveries-message').textContent = `Resend of ${eventId} asked for: it is sent at the endpoint's next turn.`;
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && deliveriesOf === endpointId) {
        const data = await loadDeliveries(endpointId);
        const done = data.find((d) => d.resend && d.eventId === eventId && d.at >= asked.requestedAt);
        if (done) {
          $('deliveries-message').textContent = done.status !== null && done.status < 300 ? `Resent ${eventId}: HTTP ${done.status}.` : `Resending ${eventId} failed: ${done.status !== null ? `HTTP ${done.status}` : done.error}.`;
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    } catch (error) {
      $('deliveries-message').textContent = explain(error);
    }
  }

  // ---- wiring ----
  $('key-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    apiKey = $('api-key').value.trim();
    $('api-key').value = '';
    $('sign-in-error').textContent = '';
    let overview;
    try {
      overview = await api('/api/v1/admin/board/overview');
    } catch (error) {
      return signedOut(explain(error));
    }
    // Shown before drawing, so the charts take the width they will have.
    $('board').hidden = false;
    $('sign-out').hidden = false;
    $('sign-in').hidden = true;
    showOverview(overview);
    readFilters();
    await loadDocuments(false);
    await loadReconciliation().catch((error) => {
      $('reconciliation-message').textContent = explain(error);
    });
    await loadWebhooks().catch((error) => {
      $('webhooks-message').textContent = explain(error);
    });
    clearInterval(timer);
    timer = setInterval(refresh, REFRESH_MS);
  });
  $('sign-out').addEventListener('click', () => signedOut('The key is forgotten.'));
  $('filters').addEventListener('submit', (event) => {
    event.preventDefault();
    readFilters();
    loadDocuments(false);
    refresh();
  });
  $('next-page').addEventListener('click', () => loadDocuments(true));
  $('replay-set').addEventListener('click', askReplaySet);
  $('replay-set-go').addEventListener('click', replaySet);
  $('replay-set-cancel').addEventListener('click', () => {
    $('replay-confirm').hidden = true;
  });
  $('replay-one').addEventListener('click', replayOne);
  $('correct-go').addEventListener('click', correct);
})();
