// Rapport chat widget: paste
//   <script src=".../static/widget.js" data-api="https://…" data-workspace="NAME"></script>
// (data-workspace: the business, when one Rapport serves several; `default` if absent).
// The site identifies the customer with Rapport.identify({customerId, userHash}), where
// userHash = HMAC-SHA256(the workspace's widget secret, customerId) is computed by the
// site's backend.
(() => {
  const script = document.currentScript;
  const api = (script && script.dataset.api) || "";
  const state = { customerId: null, userHash: null, conversationId: null, following: null,
    workspace: (script && script.dataset.workspace) || "" };
  const scope = () => (state.workspace ? { "X-Rapport-Workspace": state.workspace } : {});
  let sends = 0;

  // The widget's own words, in the language of the last reply (the page's or browser's
  // language before the first).
  const WORDS = {
    en: { open: "Chat with us", title: "Support", close: "Close chat", human: "Talk to a human",
      humanAsk: "I'd like to talk to a human, please.", label: "Your message",
      placeholder: "Type your question…", send: "Send", helpful: "Was this helpful?",
      yes: "Yes", no: "No", yesLabel: "Helpful", noLabel: "Not helpful",
      thanks: "Thanks for your feedback.", noFeedback: "Could not send feedback.",
      signIn: "Please sign in first.", sorry: "Sorry:", source: "Source", sources: "Sources",
      tooLong: "Your message is too long ({why}). Please shorten it and send it again.",
      waiting: "A person from our team will answer here as soon as they can. You can keep writing.",
      agent: "{who} from our team is answering you.", anAgent: "An agent", agentTag: "Agent" },
    es: { open: "Chatea con nosotros", title: "Ayuda", close: "Cerrar el chat",
      human: "Hablar con una persona", humanAsk: "Quiero hablar con una persona, por favor.",
      label: "Tu mensaje", placeholder: "Escribe tu pregunta…", send: "Enviar",
      helpful: "¿Te ha servido?", yes: "Sí", no: "No", yesLabel: "Me ha servido",
      noLabel: "No me ha servido", thanks: "Gracias por tu opinión.",
      noFeedback: "No se pudo enviar tu opinión.", signIn: "Inicia sesión primero.",
      sorry: "Lo sentimos:", source: "Fuente", sources: "Fuentes",
      tooLong: "Tu mensaje es demasiado largo ({why}). Acórtalo y envíalo de nuevo.",
      waiting: "Una persona de nuestro equipo te responderá aquí en cuanto pueda. Puedes seguir escribiendo.",
      agent: "{who} de nuestro equipo te está atendiendo.", anAgent: "Un agente", agentTag: "Agente" },
    fr: { open: "Discuter avec nous", title: "Assistance", close: "Fermer la discussion",
      human: "Parler à une personne", humanAsk: "Je voudrais parler à une personne, s'il vous plaît.",
      label: "Votre message", placeholder: "Écrivez votre question…", send: "Envoyer",
      helpful: "Cette réponse vous a-t-elle aidé ?", yes: "Oui", no: "Non", yesLabel: "Utile",
      noLabel: "Pas utile", thanks: "Merci pour votre avis.",
      noFeedback: "Votre avis n'a pas pu être envoyé.", signIn: "Veuillez d'abord vous connecter.",
      sorry: "Désolé :", source: "Source", sources: "Sources",
      tooLong: "Votre message est trop long ({why}). Raccourcissez-le et renvoyez-le.",
      waiting: "Une personne de notre équipe vous répondra ici dès que possible. Vous pouvez continuer à écrire.",
      agent: "{who} de notre équipe vous répond.", anAgent: "Un conseiller", agentTag: "Conseiller" },
    de: { open: "Chatten Sie mit uns", title: "Support", close: "Chat schließen",
      human: "Mit einem Menschen sprechen", humanAsk: "Ich möchte bitte mit einem Menschen sprechen.",
      label: "Ihre Nachricht", placeholder: "Ihre Frage…", send: "Senden",
      helpful: "War das hilfreich?", yes: "Ja", no: "Nein", yesLabel: "Hilfreich",
      noLabel: "Nicht hilfreich", thanks: "Danke für Ihr Feedback.",
      noFeedback: "Feedback konnte nicht gesendet werden.", signIn: "Bitte melden Sie sich zuerst an.",
      sorry: "Entschuldigung:", source: "Quelle", sources: "Quellen",
      tooLong: "Ihre Nachricht ist zu lang ({why}). Bitte kürzen Sie sie und senden Sie sie erneut.",
      waiting: "Eine Person aus unserem Team antwortet hier, sobald sie kann. Sie können weiterschreiben.",
      agent: "{who} aus unserem Team antwortet Ihnen.", anAgent: "Ein Mitarbeiter", agentTag: "Mitarbeiter" },
  };
  const firstLanguage = (document.documentElement.lang || navigator.language || "en").slice(0, 2);
  state.language = WORDS[firstLanguage] ? firstLanguage : "en";
  const t = (key, values = {}) => (WORDS[state.language] || WORDS.en)[key]
    .replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");

  const css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = (script ? new URL("widget.css", script.src).href : "/static/widget.css");
  document.head.appendChild(css);

  const root = document.createElement("div");
  root.className = "rw-root";
  root.innerHTML = `
    <button type="button" class="rw-launcher" aria-expanded="false" aria-controls="rw-panel">Chat with us</button>
    <section id="rw-panel" class="rw-panel" role="dialog" aria-label="Support chat" hidden>
      <header class="rw-head"><h2>Support</h2>
        <button type="button" class="rw-close" aria-label="Close chat">×</button></header>
      <div class="rw-log" role="log" aria-live="polite" aria-label="Conversation"></div>
      <p class="rw-status" role="status" hidden></p>
      <button type="button" class="rw-human rw-human-bar">Talk to a human</button>
      <form class="rw-form">
        <label for="rw-input" class="rw-sr">Your message</label>
        <textarea id="rw-input" rows="2" placeholder="Type your question…" required></textarea>
        <button type="submit" class="rw-send">Send</button>
      </form>
    </section>`;
  document.body.appendChild(root);
  // The chrome's words in the current language; again after each reply.
  function wordChrome() {
    root.querySelector(".rw-launcher").textContent = t("open");
    root.querySelector(".rw-head h2").textContent = t("title");
    root.querySelector(".rw-close").setAttribute("aria-label", t("close"));
    root.querySelector(".rw-human-bar").textContent = t("human");
    root.querySelector(".rw-form label").textContent = t("label");
    root.querySelector("#rw-input").placeholder = t("placeholder");
    root.querySelector(".rw-send").textContent = t("send");
  }
  wordChrome();
  const launcher = root.querySelector(".rw-launcher");
  const panel = root.querySelector(".rw-panel");
  const log = root.querySelector(".rw-log");
  const form = root.querySelector(".rw-form");
  const input = root.querySelector("#rw-input");
  const statusLine = root.querySelector(".rw-status");
  const humanBar = root.querySelector(".rw-human-bar");
  humanBar.addEventListener("click", () => send(t("humanAsk")));

  function toggle(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    if (open) input.focus(); else launcher.focus();
  }
  launcher.addEventListener("click", () => toggle(panel.hidden));
  root.querySelector(".rw-close").addEventListener("click", () => toggle(false));
  panel.addEventListener("keydown", e => { if (e.key === "Escape") toggle(false); });
  input.addEventListener("keydown", e => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });

  function bubble(role, text) {
    const el = document.createElement("div");
    el.className = `rw-msg rw-${role}`;
    const body = document.createElement("div");
    body.className = "rw-text";
    body.textContent = text;
    el.appendChild(body);
    log.appendChild(el);
    log.scrollTop = log.scrollHeight;
    return el;
  }

  // What a person calls a source, in the reply's language (`label`, from the server): the
  // order, their account's records, else the help article's title.
  function sourceLabel(c) {
    if (c.label) return c.label;
    if (c.kind === "order") return `Order ${c.id.replace(/^order:/, "")}`;
    if (c.kind === "record") return "Your account";
    if (c.kind === "history") return "Your earlier message";
    if (c.kind === "product") return c.title || "Product details";
    return c.title || "Help article";
  }

  function renderDone(el, result) {
    const body = el.querySelector(".rw-text");
    body.textContent = "";
    // The reply's markers are renumbered 1, 2, 3 in order of first use; each opens its
    // source (the passage) below the reply.
    const byN = new Map(result.citations.map(c => [String(c.n), c]));
    const order = [];
    for (const m of result.answer.matchAll(/\[(\d+)\]/g)) {
      if (byN.has(m[1]) && !order.includes(m[1])) order.push(m[1]);
    }
    const shown = new Map(order.map((n, i) => [n, i + 1]));
    const items = new Map();
    for (const part of result.answer.split(/(\[\d+\])/)) {
      const m = part.match(/^\[(\d+)\]$/);
      if (m && shown.has(m[1])) {
        const k = shown.get(m[1]);
        const b = document.createElement("button");
        b.type = "button";
        b.className = "rw-cite";
        b.textContent = `[${k}]`;
        b.setAttribute("aria-label", `${t("source")} ${k}: ${sourceLabel(byN.get(m[1]))}`);
        b.addEventListener("click", () => {
          const d = items.get(k);
          if (d) { d.open = true; d.scrollIntoView({ block: "nearest" }); d.querySelector("summary").focus(); }
        });
        body.appendChild(b);
      } else if (!m) body.appendChild(document.createTextNode(part));
    }
    if (order.length) {
      const list = document.createElement("ol");
      list.className = "rw-sources";
      list.setAttribute("aria-label", t("sources"));
      for (const n of order) {
        const c = byN.get(n), k = shown.get(n);
        const li = document.createElement("li");
        li.value = k;
        const d = document.createElement("details");
        const s = document.createElement("summary");
        s.textContent = sourceLabel(c);
        d.appendChild(s);
        const p = document.createElement("p");
        p.className = "rw-passage";
        p.textContent = c.text;
        d.appendChild(p);
        li.appendChild(d);
        list.appendChild(li);
        items.set(k, d);
      }
      el.appendChild(list);
    }
    const fb = document.createElement("div");
    fb.className = "rw-feedback";
    const prompt = document.createElement("span");
    prompt.textContent = t("helpful");
    fb.appendChild(prompt);
    for (const [r, word, label] of [["5", "yes", "yesLabel"], ["1", "no", "noLabel"]]) {
      const b = document.createElement("button");
      b.type = "button"; b.dataset.r = r; b.textContent = t(word);
      b.setAttribute("aria-label", t(label));
      fb.appendChild(b);
    }
    fb.querySelectorAll("button").forEach(b => b.addEventListener("click", async () => {
      const r = await fetch(`${api}/v1/feedback`, {
        method: "POST", headers: { "Content-Type": "application/json", ...scope() },
        body: JSON.stringify({ turn_id: result.turn_id, customer_id: state.customerId,
          user_hash: state.userHash, rating: Number(b.dataset.r), resolved: b.dataset.r === "5" }),
      });
      fb.textContent = r.ok ? t("thanks") : t("noFeedback");
    }));
    el.appendChild(fb);
    log.scrollTop = log.scrollHeight;
  }

  async function send(message) {
    if (!state.customerId) { bubble("system", t("signIn")); return; }
    const mySend = ++sends;
    const mine = bubble("customer", message);
    const reply = bubble("assistant", "");
    reply.setAttribute("aria-busy", "true");
    const text = reply.querySelector(".rw-text");
    const res = await fetch(`${api}/v1/chat`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "text/event-stream", ...scope() },
      body: JSON.stringify({
        customer_id: state.customerId, user_hash: state.userHash,
        conversation_id: state.conversationId, message, channel: "widget",
        context: { device: window.innerWidth < 600 ? "mobile" : "desktop",
          locale: navigator.language,
          timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
          page_url: location.href },
      }),
    });
    if (!res.ok) {
      const err = await res.json().catch(() => ({ error: res.statusText }));
      // Nothing the customer typed is lost: it goes back into the box.
      if (!input.value) input.value = message;
      text.textContent = res.status === 413
        ? t("tooLong", { why: err.error || "" })
        : `${t("sorry")} ${err.error || res.statusText}`;
      reply.className = "rw-msg rw-system";
      reply.removeAttribute("aria-busy");
      return;
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
      let i;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const raw = buf.slice(0, i); buf = buf.slice(i + 2);
        let event = "message", data = "";
        for (const line of raw.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data += line.slice(5).trimStart();
        }
        if (event === "token") text.textContent += JSON.parse(data).text;
        else if (event === "reset") text.textContent = "";
        else if (event === "done") {
          const result = JSON.parse(data);
          state.conversationId = result.conversation_id;
          if (WORDS[result.language]) { state.language = result.language; wordChrome(); }
          // A card number or password was taken out before the message was kept: the
          // customer's own bubble shows what was kept, not the secret.
          if (result.message_kept) mine.querySelector(".rw-text").textContent = result.message_kept;
          if (result.answer) renderDone(reply, result);
          else reply.remove();  // an agent has the conversation: they answer live
          reply.removeAttribute("aria-busy");
          if (mySend === sends) showState(result.state, result.agent);  // the latest send's state wins
          follow(result.conversation_id);
        }
        log.scrollTop = log.scrollHeight;
      }
    }
  }

  // Who answers now, in words for the customer.
  function showState(now, agent) {
    const words = { waiting: t("waiting"), agent: t("agent", { who: agent || t("anAgent") }) }[now];
    statusLine.hidden = !words;
    statusLine.textContent = words || "";
    humanBar.hidden = now === "waiting" || now === "agent";
  }

  // Live: an agent's messages and state changes arrive without reload. fetch, not
  // EventSource, so the identity headers can be sent; on reconnect Last-Event-ID
  // replays what was missed.
  async function follow(conversationId) {
    if (!conversationId || state.following === conversationId) return;
    state.following = conversationId;
    let last = 0;
    const seen = new Set();
    while (state.following === conversationId) {
      try {
        const res = await fetch(`${api}/v1/conversations/${encodeURIComponent(conversationId)}/events`, {
          headers: { "X-Customer-Id": state.customerId, "X-User-Hash": state.userHash,
            "Last-Event-ID": String(last), ...scope() } });
        if (!res.ok) throw new Error(res.statusText);
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done || state.following !== conversationId) break;
          buf += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
          let i;
          while ((i = buf.indexOf("\n\n")) >= 0) {
            const raw = buf.slice(0, i); buf = buf.slice(i + 2);
            let id = 0, data = "";
            for (const line of raw.split("\n")) {
              if (line.startsWith("id:")) id = Number(line.slice(3).trim());
              else if (line.startsWith("data:")) data += line.slice(5).trimStart();
            }
            if (!id || !data || seen.has(id)) continue;
            seen.add(id); last = Math.max(last, id);
            const ev = JSON.parse(data);
            if (ev.kind === "state") showState(ev.state, ev.agent);
            else if (ev.role === "agent") {
              const b = bubble("agent", ev.text);
              const who = document.createElement("span");
              who.className = "rw-who";
              who.textContent = ev.agent || t("agentTag");
              b.prepend(who);
            }
          }
        }
      } catch (e) { /* reconnect below */ }
      await new Promise(r => setTimeout(r, 1500));
    }
  }

  form.addEventListener("submit", e => {
    e.preventDefault();
    const message = input.value.trim();
    if (!message) return;
    input.value = "";
    send(message);
  });

  window.Rapport = {
    // `workspace` switches the business (a page serving several, like the demo's).
    identify({ customerId, userHash, workspace }) {
      if (workspace !== undefined) state.workspace = workspace;
      state.customerId = customerId; state.userHash = userHash; state.conversationId = null;
      state.following = null;
      log.innerHTML = "";
      showState("bot");
    },
    open() { toggle(true); },
  };
})();
