// The agent inbox: the queue (waiting first), the live transcript, take over / send /
// hand back / resolve, and the assist (customer card, drafts, articles, actions).
(() => {
  const $ = id => document.getElementById(id);
  const keyInput = $("agent-key"), nameInput = $("agent-name");
  const list = $("queue-list"), status = $("queue-status");
  const main = $("conversation"), side = $("assist");
  let key = sessionStorage.getItem("rapport-agent-key") || "";
  let name = sessionStorage.getItem("rapport-agent-name") || "";
  let view = "all";
  let current = null;      // {id, state, assignee, customer}
  let stream = null;       // AbortController of the live events
  let drafts = [];         // the drafts offered for the current conversation
  let usedDraft = null;    // {index, text, variant, intent} the reply box started from
  let lastAssist = 0;
  let lastQueue = 0;

  const el = (tag, props = {}, ...children) => {
    const node = Object.assign(document.createElement(tag), props);
    for (const c of children) if (c !== null && c !== undefined && c !== "") node.append(c);
    return node;
  };
  const headers = () => ({ "X-API-Key": key, "X-Agent-Name": name, "Content-Type": "application/json" });
  const api = async (path, init = {}) => {
    const res = await fetch(path, { ...init, headers: { ...headers(), ...(init.headers || {}) } });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.error || res.statusText);
    return body;
  };
  const ago = iso => {
    const s = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
    if (s < 60) return `${Math.round(s)}s`;
    if (s < 3600) return `${Math.round(s / 60)}m`;
    return `${Math.round(s / 3600)}h`;
  };
  const stateLabel = (state, assignee) => ({
    bot: "with the bot", waiting: "waiting for an agent",
    agent: assignee === name ? "with you" : `with ${assignee}`, resolved: "resolved",
  })[state] || state;

  // -- the queue -------------------------------------------------------------------------
  async function loadQueue() {
    const ticket = ++lastQueue;  // an older answer (another business, another view) is dropped
    try {
      const items = await api(`/v1/agent/inbox?view=${view}`);
      if (ticket !== lastQueue) return;
      list.replaceChildren();
      for (const it of items) {
        const badges = [];
        if (it.urgent) badges.push(el("span", { className: "badge urgent", textContent: "urgent" }));
        if (it.state === "waiting") badges.push(el("span", { className: "badge waiting", textContent: `waiting ${ago(it.waiting_since)}` }));
        else if (it.state === "agent") badges.push(el("span", { className: "badge agent", textContent: it.assignee === name ? "you" : it.assignee }));
        else if (it.state === "resolved") badges.push(el("span", { className: "badge resolved", textContent: "resolved" }));
        for (const f of it.flags) badges.push(el("span", { className: `badge ${f}`, textContent: f === "at_risk" ? "at risk" : f.toUpperCase() }));
        const b = el("button", { type: "button" },
          el("span", { className: "who" }, it.customer_name || it.customer_id, ...badges),
          el("span", { className: "last", textContent: it.last_customer_message || "" }));
        b.dataset.id = it.conversation_id;
        if (current && current.id === it.conversation_id) b.setAttribute("aria-current", "true");
        b.addEventListener("click", () => open(it.conversation_id));
        list.append(el("li", {}, b));
      }
      const waiting = items.filter(i => i.state === "waiting").length;
      const urgent = items.filter(i => i.urgent && i.state === "waiting").length;
      status.textContent = items.length ? `${items.length} conversations, ${waiting} waiting${urgent ? ` (${urgent} urgent)` : ""}` : "No conversations.";
    } catch (e) { if (ticket === lastQueue) status.textContent = `Error: ${e.message}`; }
  }

  // -- one conversation ------------------------------------------------------------------
  function line(m) {
    if (m.kind === "state") {
      const who = m.agent ? ` (${m.agent})` : "";
      return el("li", { className: "state", textContent: `— ${stateLabel(m.state, m.agent)}${who}${m.reason ? ": " + m.reason : ""} —` });
    }
    const who = m.role === "agent" ? (m.agent || "agent") : m.role === "assistant" ? "bot" : "customer";
    const item = el("li", { className: m.role }, el("span", { className: "who", textContent: who }), m.text);
    if (m.sources && m.sources.length) item.append(el("span", { className: "sources", textContent: "Sources: " + m.sources.join(", ") }));
    return item;
  }

  function header() {
    const c = current;
    const mine = c.state === "agent" && c.assignee === name;
    const take = el("button", { type: "button", className: mine ? "" : "primary", textContent: "Take over", disabled: mine || (c.state === "agent" && c.assignee !== name) });
    const back = el("button", { type: "button", textContent: "Hand back to bot", disabled: !mine });
    const done = el("button", { type: "button", textContent: "Resolve", disabled: c.state === "resolved" || (c.state === "agent" && !mine) });
    take.id = "take"; back.id = "release"; done.id = "resolve";
    take.addEventListener("click", () => act("assign"));
    back.addEventListener("click", () => act("release"));
    done.addEventListener("click", () => act("resolve"));
    return el("div", { className: "conv-head" },
      el("h2", { textContent: `${c.customer} — ${stateLabel(c.state, c.assignee)}` }),
      el("div", { className: "actions" }, take, back, done));
  }

  function render(messages) {
    const transcript = el("ol", { className: "transcript", id: "transcript" }, ...messages.map(line));
    const box = el("textarea", { id: "reply-box", placeholder: "Write to the customer…" });
    box.addEventListener("input", () => { if (!box.value.trim()) usedDraft = null; });
    const send = el("button", { type: "button", className: "primary", id: "send", textContent: "Send" });
    send.addEventListener("click", sendReply);
    const note = el("span", { className: "muted", id: "composer-note" });
    const mine = current.state === "agent" && current.assignee === name;
    send.disabled = !mine;
    if (!mine) note.textContent = current.state === "agent" ? `${current.assignee} holds this conversation.` : "Take over to reply.";
    main.replaceChildren(header(), transcript,
      el("div", { className: "composer" }, el("label", { htmlFor: "reply-box", textContent: "Reply to the customer" }), box,
        el("div", { className: "row" }, send, note)));
    transcript.scrollTop = transcript.scrollHeight;
  }

  async function open(id) {
    if (stream) stream.abort();
    usedDraft = null;
    list.querySelectorAll("button[data-id]").forEach(b => b.toggleAttribute("aria-current", b.dataset.id === id));
    main.replaceChildren(el("p", { className: "muted", textContent: "Loading…" }));
    try {
      const conv = await api(`/v1/agent/conversations/${encodeURIComponent(id)}`);
      current = { id, state: conv.state, assignee: conv.assignee, customer: conv.customer_id };
      render(conv.messages);
      loadAssist();
      follow(id, conv.last_event_id);
    } catch (e) { main.replaceChildren(el("p", { textContent: `Error: ${e.message}` })); }
  }

  async function act(what) {
    if (!current) return;
    try {
      const s = await api(`/v1/agent/conversations/${encodeURIComponent(current.id)}/${what}`, { method: "POST" });
      // the header and the composer follow the new state in place: re-opening the
      // conversation would replace the reply box and lose a draft taken meanwhile
      current.state = s.state; current.assignee = s.assignee;
      const h = main.querySelector(".conv-head");
      if (h) h.replaceWith(header());
      syncComposer();
      loadQueue();
    } catch (e) { $("composer-note").textContent = e.message; }
  }

  async function sendReply() {
    const box = $("reply-box");
    const text = box.value.trim();
    if (!text || !current) return;
    const body = { text };
    if (usedDraft) body.draft = usedDraft;
    try {
      await api(`/v1/agent/conversations/${encodeURIComponent(current.id)}/messages`, { method: "POST", body: JSON.stringify(body) });
      box.value = ""; usedDraft = null;
      $("composer-note").textContent = "Sent.";
    } catch (e) { $("composer-note").textContent = e.message; }
  }

  // Live events: fetch with the agent key (EventSource cannot send headers), from the
  // transcript's last event on, replaying from the last id seen on reconnect.
  async function follow(id, from) {
    const ctl = new AbortController();
    stream = ctl;
    let last = from;
    while (!ctl.signal.aborted) {
      try {
        const res = await fetch(`/v1/conversations/${encodeURIComponent(id)}/events`, {
          headers: { ...headers(), "Last-Event-ID": String(last) }, signal: ctl.signal });
        if (!res.ok) throw new Error(res.statusText);
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
          let cut;
          while ((cut = buf.indexOf("\n\n")) >= 0) {
            const block = buf.slice(0, cut);
            buf = buf.slice(cut + 2);
            const data = {};
            for (const raw of block.split("\n")) {
              const i = raw.indexOf(":");
              if (i > 0) data[raw.slice(0, i)] = raw.slice(i + 1).trim();
            }
            if (!data.id || !data.data || Number(data.id) <= last) continue;
            last = Number(data.id);
            receive(JSON.parse(data.data));
          }
        }
      } catch (e) {
        if (ctl.signal.aborted) return;
      }
      await new Promise(r => setTimeout(r, 1500));
    }
  }

  function receive(ev) {
    const transcript = $("transcript");
    if (!transcript || !current) return;
    transcript.append(line(ev));
    transcript.scrollTop = transcript.scrollHeight;
    if (ev.kind === "state") {
      current.state = ev.state;
      current.assignee = ev.state === "agent" ? ev.agent || null : null;
      const h = main.querySelector(".conv-head");
      if (h) h.replaceWith(header());
      syncComposer();
      loadQueue();
    } else if (ev.role === "customer") {
      loadAssist();
      loadQueue();
    }
  }

  function syncComposer() {
    const send = $("send"), note = $("composer-note");
    if (!send) return;
    const mine = current.state === "agent" && current.assignee === name;
    send.disabled = !mine;
    note.textContent = mine ? "" : current.state === "agent" ? `${current.assignee} holds this conversation.` : "Take over to reply.";
  }

  // -- assist ----------------------------------------------------------------------------
  const section = (title, ...children) => el("section", { className: "card" }, el("h2", { textContent: title }), ...children);
  // what the list leaves out, by kind: "Not shown: 1 more order, 9 more order lines"
  const moreRecords = overview => {
    const shown = {};
    for (const r of overview.records) shown[r.kind] = (shown[r.kind] || 0) + 1;
    const more = Object.entries(overview.record_counts || {})
      .filter(([kind, n]) => n > (shown[kind] || 0))
      .map(([kind, n]) => {
        const left = n - (shown[kind] || 0);
        const name = kind.replaceAll("_", " ");
        return `${left} more ${left > 1 ? name + (name.endsWith("s") ? "es" : "s") : name}`;
      });
    return more.length ? el("p", { className: "muted", ariaLabel: "Records not shown", textContent: `Not shown: ${more.join(", ")}` }) : "";
  };
  const bullets = (items, fmt) => {
    const ul = el("ul");
    for (const it of items) ul.append(el("li", {}, fmt(it)));
    if (!items.length) ul.append(el("li", { className: "muted", textContent: "None" }));
    return ul;
  };

  async function loadAssist() {
    if (!current) return;
    const ticket = ++lastAssist;
    try {
      const a = await api("/v1/assist", { method: "POST", body: JSON.stringify({ conversation_id: current.id }) });
      if (ticket !== lastAssist) return;
      const c = a.customer;
      current.customer = c.name || c.id;
      const h = main.querySelector(".conv-head h2");
      if (h) h.textContent = `${current.customer} — ${stateLabel(current.state, current.assignee)}`;
      const intent = a.plan && a.plan.intents && a.plan.intents.length ? a.plan.intents[0].name : null;
      drafts = a.suggested_replies.map((text, index) => ({ index, text, variant: a.variant || null, intent }));
      const draftNodes = drafts.map(d => {
        const use = el("button", { type: "button", textContent: `Use draft ${d.index + 1}` });
        use.addEventListener("click", () => useDraft(d.index));
        return el("div", { className: "draft" }, el("div", { textContent: d.text }), use);
      });
      const consents = Object.entries(c.consents).map(([k, v]) => `${k}: ${v ? "yes" : "no"}`).join(", ");
      side.replaceChildren(
        section("Customer",
          el("p", {}, el("strong", { textContent: c.name || c.id }), ` (${c.id})`),
          el("p", { className: "muted", textContent: [c.email, [c.city, c.region, c.country].filter(Boolean).join(", "), c.locale].filter(Boolean).join(" · ") }),
          // the business's own facts about them ("tier: gold"), as its mapping names them
          Object.keys(c.attributes || {}).length
            ? el("p", { ariaLabel: "Attributes", textContent: Object.entries(c.attributes).map(([k, v]) => `${k.replace(/_/g, " ")}: ${v}`).join(" · ") })
            : "",
          el("p", { className: "muted", textContent: `Consent — ${consents}` }),
          el("p", { ariaLabel: "Segments" }, ...(a.segments.length ? a.segments.map(sg => el("span", { className: `badge ${sg}`, textContent: sg })) : [el("span", { className: "muted", textContent: "No segments" })])),
          a.variant ? el("p", { className: "muted", textContent: `Experiment: ${a.variant}` }) : "",
          // a business's records of any kind; "Records: None" when they hold nothing
          el("h3", { textContent: "Records" }),
          bullets(a.overview.records, r => r.text),
          moreRecords(a.overview)),
        section("Suggested replies", ...draftNodes),
        section("Next best actions", bullets(a.next_best_actions, n => `${n.action}${n.target ? " " + n.target : ""} — ${n.reason}`)),
        section("Relevant articles", bullets(a.articles, ar => el("details", {}, el("summary", { textContent: (ar.audience === "internal" ? "Internal — do not send: " : "") + (ar.title || ar.id) }), ar.snippet))),
        section("Risk flags", (() => { const u = bullets(a.risk_flags, f => f); u.className = "flags"; u.ariaLabel = "Risk flags"; return u; })(),
          el("details", { className: "trace" }, el("summary", { textContent: "Decision trace" }),
            bullets(a.decision_trace, h => {
              const inputs = Object.entries(h.inputs).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ");
              return `${h.rule}${inputs ? " (" + inputs + ")" : ""}`;
            }))),
      );
    } catch (e) { side.replaceChildren(el("p", { textContent: `Assist: ${e.message}` })); }
  }

  function useDraft(i) {
    const d = drafts[i], box = $("reply-box");
    if (!d || !box) return;
    box.value = d.text;
    usedDraft = { index: d.index, text: d.text, variant: d.variant, intent: d.intent };
    box.focus();
  }

  // -- keys, filters, start --------------------------------------------------------------
  document.addEventListener("keydown", e => {
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") { e.preventDefault(); sendReply(); return; }
    if (!e.altKey) return;
    const k = e.key.toLowerCase();
    if (k === "t") { e.preventDefault(); act("assign"); }
    else if (k === "b") { e.preventDefault(); act("release"); }
    else if (k === "r") { e.preventDefault(); act("resolve"); }
    else if (["1", "2", "3"].includes(k)) { e.preventDefault(); useDraft(Number(k) - 1); }
  });
  document.querySelectorAll(".filters button").forEach(b => b.addEventListener("click", () => {
    view = b.dataset.view;
    document.querySelectorAll(".filters button").forEach(x => x.setAttribute("aria-selected", String(x === b)));
    loadQueue();
  }));
  // Demo only: each business's queue, with a key of that business (a real agent's key
  // belongs to one workspace and opens only its queue).
  const business = $("agent-workspace");
  const demoKey = async workspace => {
    const res = await fetch(`/demo/agent-key?workspace=${encodeURIComponent(workspace)}`).catch(() => null);
    return res && res.ok ? (await res.json()).key : "";
  };

  $("key-form").addEventListener("submit", async e => {
    e.preventDefault();
    key = keyInput.value.trim(); name = nameInput.value.trim();
    sessionStorage.setItem("rapport-agent-key", key);
    sessionStorage.setItem("rapport-agent-name", name);
    loadQueue();
    // the picker names the business whose queue the typed key opens, not the one before
    for (const option of business.hidden ? [] : business.options) {
      if (option.value !== business.value && await demoKey(option.value) === key) {
        business.value = option.value;
        break;
      }
    }
  });
  business.addEventListener("change", async () => {
    key = await demoKey(business.value);
    keyInput.value = key;
    sessionStorage.setItem("rapport-agent-key", key);
    if (stream) stream.abort();
    current = null;
    main.replaceChildren(el("p", { className: "hint" }, "Select a conversation: its transcript, the customer, and suggested replies."));
    side.replaceChildren();
    loadQueue();
  });

  (async () => {
    if (!name) name = "Agent";
    nameInput.value = name;
    const res = await fetch("/demo/workspaces").catch(() => null);
    const workspaces = res && res.ok ? await res.json() : [];
    if (workspaces.length > 1) {
      business.replaceChildren(...workspaces.map(w => new Option(w.brand, w.name)));
      business.hidden = business.labels[0].hidden = false;
    }
    if (!key) key = await demoKey("default");
    if (key) { keyInput.value = key; loadQueue(); setInterval(loadQueue, 5000); }
    else status.textContent = "Enter your agent API key.";
  })();
})();
