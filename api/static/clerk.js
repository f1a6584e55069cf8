// The clerk's page's behaviour (api/templates/clerk.html): 学习问答 through POST /v1/qa, a
// matter through the session endpoints. Every text from the server goes in through textContent,
// never as markup: replies, articles and case-system messages may carry hostile text.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const KEY = "zhiban.apiKey";
  const STATES = {
    none: "未开始", active: "办理中", submitted: "已提交", ineligible: "不符合条件",
    cancelled: "已取消", handoff: "已转人工",
  };
  const MAX_FILE = 10 * 1024 * 1024;

  // An element with text (textContent only) and an optional class.
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function showError(box, msg) {
    box.textContent = msg || "";
    box.hidden = !msg;
  }

  // --- API key (deployments with keys; development mode needs none) ---
  function apiKey() {
    try { return sessionStorage.getItem(KEY) || ""; } catch { return ""; }
  }
  $("api-key").value = apiKey();
  $("key-status").textContent = apiKey() ? "已设置" : "";
  $("key-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const v = $("api-key").value.trim();
    try { v ? sessionStorage.setItem(KEY, v) : sessionStorage.removeItem(KEY); } catch { /* private mode */ }
    $("key-status").textContent = v ? "已设置" : "已清除";
    loadAgents();
  });

  // One call; resolves to the JSON body, rejects with the contract's Chinese message.
  async function api(method, path, body) {
    const headers = { "Accept": "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const k = apiKey();
    if (k) headers["Authorization"] = "Bearer " + k;
    let res;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      throw new Error("无法连接服务，请检查网络");
    }
    let data = null;
    try { data = await res.json(); } catch { /* not JSON */ }
    if (!res.ok) {
      const m = data && data.error && data.error.message;
      const hint = res.status === 401 ? "（请填写 API 密钥）" : "";
      throw new Error((m || "请求失败（HTTP " + res.status + "）") + hint);
    }
    return data;
  }

  // --- 学习问答 ---
  let qaBusy = false;
  $("qa-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const question = $("question").value.trim();
    if (!question || qaBusy) return;
    qaBusy = true;
    $("ask").disabled = true;
    showError($("qa-error"), "");
    const req = { question };
    if ($("as-of").value) req.as_of = $("as-of").value;
    try {
      renderAnswer(await api("POST", "/v1/qa", req));
    } catch (e) {
      showError($("qa-error"), e.message);
    } finally {
      qaBusy = false;
      $("ask").disabled = false;
    }
  });

  function statusTag(status) {
    return el("span", status, "tag " + (status === "现行有效" ? "good" : "warn"));
  }

  function renderAnswer(a) {
    $("answer").textContent = a.answer || "";
    $("refused").hidden = !a.refused;
    const w = $("warnings");
    w.replaceChildren(...(a.warnings || []).map((t) => {
      const li = el("li", t);
      li.dataset.testid = "warning";
      return li;
    }));
    const list = $("citations");
    list.replaceChildren();
    $("citation-head").textContent = "条文原文";
    $("citation-text").textContent = "";
    for (const c of a.citations || []) {
      const b = el("button");
      b.type = "button";
      b.dataset.testid = "citation";
      b.setAttribute("aria-pressed", "false");
      b.append(el("span", c.title, "title"));
      const meta = el("span", null, "meta");
      meta.append(el("span", [c.doc_number || "无文号", c.article || ""].filter(Boolean).join(" · ") + " "));
      meta.append(statusTag(c.status));
      b.append(meta);
      b.addEventListener("click", () => openCitation(c, b));
      const li = el("li");
      li.append(b);
      list.append(li);
    }
    if (!(a.citations || []).length) list.append(el("li", "（无）", "muted"));
  }

  function openCitation(c, button) {
    for (const b of $("citations").querySelectorAll("button")) b.setAttribute("aria-pressed", "false");
    button.setAttribute("aria-pressed", "true");
    $("citation-head").textContent = "条文原文：" + c.title + (c.article ? " " + c.article : "") +
      "（" + c.status + "）";
    $("citation-text").textContent = c.text || "（该引用未附原文，来源：" + c.source_file + "）";
  }

  // --- 事项办理 ---
  let session = null; // the last session object
  let transcript = []; // {role, text, refs}
  let attachmentSeq = 0;
  let mxBusy = false;

  async function loadAgents() {
    showError($("mx-error"), "");
    try {
      const data = await api("GET", "/v1/agents");
      const sel = $("agent-select");
      const keep = sel.value;
      sel.replaceChildren(el("option", "— 选择事项 —"));
      sel.firstChild.value = "";
      for (const a of data.agents || []) {
        if (a.id === "qa") continue; // 学习问答 has its own panel
        const o = el("option", a.name);
        o.value = a.id;
        sel.append(o);
      }
      sel.value = keep;
    } catch (e) {
      showError($("mx-error"), "事项列表加载失败：" + e.message);
    }
  }

  function setBusy(b) {
    mxBusy = b;
    const open = !!session && session.state === "active";
    $("message").disabled = b || !open;
    $("send").disabled = b || !open;
    $("upload").disabled = b || !open;
    $("cancel").disabled = b || !open;
    $("restart").disabled = b || !$("agent-select").value;
    $("agent-select").disabled = b;
  }

  async function start() {
    const agent = $("agent-select").value;
    session = null;
    transcript = [];
    attachmentSeq = 0;
    render();
    if (!agent) return;
    setBusy(true);
    showError($("mx-error"), "");
    try {
      const s = await api("POST", "/v1/agents/" + encodeURIComponent(agent) + "/sessions", {});
      if (s.reply) transcript.push({ role: "assistant", text: s.reply, refs: s.citations });
      session = s;
    } catch (e) {
      showError($("mx-error"), "无法开始办理：" + e.message);
    } finally {
      render();
      setBusy(false);
    }
  }
  $("agent-select").addEventListener("change", start);
  $("restart").addEventListener("click", start);

  $("cancel").addEventListener("click", async () => {
    if (!session || mxBusy) return;
    setBusy(true);
    try {
      session = await api("DELETE", "/v1/sessions/" + encodeURIComponent(session.session_id));
    } catch (e) {
      showError($("mx-error"), e.message);
    } finally {
      render();
      setBusy(false);
    }
  });

  // A file as the contract's attachment (base64 without the data: prefix).
  function readAttachment(file) {
    return new Promise((resolve, reject) => {
      if (file.size > MAX_FILE) { reject(new Error("附件超过 10 MB：" + file.name)); return; }
      const r = new FileReader();
      r.onerror = () => reject(new Error("无法读取附件：" + file.name));
      r.onload = () => {
        const s = String(r.result);
        attachmentSeq += 1;
        resolve({
          ref: "A" + attachmentSeq, filename: file.name, mime: file.type || "",
          content_base64: s.slice(s.indexOf(",") + 1),
        });
      };
      r.readAsDataURL(file);
    });
  }

  $("msg-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!session || mxBusy || session.state !== "active") return;
    const text = $("message").value.trim();
    const files = Array.from($("upload").files || []);
    if (!text && !files.length) return;
    setBusy(true); // before any await, so that a second click cannot send twice
    showError($("mx-error"), "");
    try {
      const attachments = await Promise.all(files.map(readAttachment));
      const body = { text };
      if (attachments.length) body.attachments = attachments;
      const s = await api("POST", "/v1/sessions/" + encodeURIComponent(session.session_id) + "/messages", body);
      const names = attachments.map((a) => a.ref + " " + a.filename).join("，");
      transcript.push({ role: "resident", text: text + (names ? (text ? "\n" : "") + "［附件］" + names : "") });
      transcript.push({ role: "assistant", text: s.reply, refs: s.citations });
      session = s;
      $("message").value = "";
      $("upload").value = "";
    } catch (e) {
      showError($("mx-error"), e.message);
    } finally {
      render();
      setBusy(false);
      if (!$("message").disabled) $("message").focus();
    }
  });

  function emptyRow(cols) {
    const row = el("tr");
    const td = el("td", "（无）", "muted");
    td.colSpan = cols;
    row.append(td);
    return row;
  }
  function yesNo(v) { return v === true ? "✓" : v === false ? "✗" : "—"; }
  function shown(v) {
    if (v === true) return "是";
    if (v === false) return "否";
    if (v === null || v === undefined) return "—";
    return typeof v === "object" ? JSON.stringify(v) : String(v);
  }

  function render() {
    const s = session;
    const state = s ? s.state : "none";
    const st = $("session-state");
    st.dataset.state = state;
    st.textContent = STATES[state] || state;
    st.className = "tag " + ({ submitted: "good", ineligible: "bad", cancelled: "bad", handoff: "warn" }[state] || "");
    $("session-id").textContent = s ? s.session_id : "—";
    $("interactions").textContent = s ? s.interactions + " / " + s.max_interactions : "—";
    $("case-no").textContent = s && s.case_no ? s.case_no : "—";
    $("awaiting").textContent = s && s.state === "active" && s.awaiting ? "等待：" + s.awaiting.field : "";

    const tr = $("transcript");
    tr.replaceChildren();
    if (!transcript.length) tr.append(el("p", s ? "请输入居民的回答。" : "选择事项后开始办理。", "muted"));
    let last = null;
    for (const m of transcript) {
      const d = el("div", null, "msg " + m.role);
      d.append(el("span", m.role === "assistant" ? "智办" : "居民", "who"));
      const text = el("span", m.text);
      d.append(text);
      if (m.refs && m.refs.length) {
        d.append(el("span", "依据：" + m.refs.map((c) => c.title + (c.article ? " " + c.article : "")).join("；"), "refs"));
      }
      tr.append(d);
      if (m.role === "assistant") last = text;
    }
    if (last) last.dataset.testid = "reply"; // the assistant's last reply, its text only
    tr.scrollTop = tr.scrollHeight;

    const calls = $("tool-calls");
    calls.replaceChildren();
    for (const c of (s && s.tool_calls) || []) {
      const row = el("tr");
      row.append(el("td", c.tool), el("td", yesNo(c.ok)),
        el("td", c.passed === true ? "通过" : c.passed === false ? "未通过" : "—"),
        el("td", c.message, "v"));
      if (c.at) row.title = new Date(c.at).toLocaleString("zh-CN");
      calls.append(row);
    }
    if (!calls.children.length) calls.append(emptyRow(4));

    const form = $("form");
    form.replaceChildren();
    for (const [k, v] of Object.entries((s && s.form) || {})) {
      const row = el("tr");
      row.append(el("th", k), el("td", shown(v), "v"));
      form.append(row);
    }
    if (!form.children.length) form.append(emptyRow(2));

    const mats = $("materials");
    mats.replaceChildren();
    for (const m of (s && s.materials) || []) {
      mats.append(el("li", m.ref + " " + m.kind + "：" + (m.status === "accepted" ? "已接收" : "未通过") +
        (m.reason ? "（" + m.reason + "）" : "")));
    }
    if (!mats.children.length) mats.append(el("li", "（无）", "muted"));
  }

  render();
  setBusy(false);
  loadAgents();
})();
