// Demo only: pick a business and a customer, and get the identity hash a site's backend
// would compute with that business's widget secret.
(async () => {
  const business = document.getElementById("business-picker");
  const picker = document.getElementById("customer-picker");
  const status = document.getElementById("signed-in");
  const title = document.getElementById("store-title");
  const res = await fetch("/demo/workspaces");
  if (!res.ok) { status.textContent = "Demo helpers are off."; return; }
  const workspaces = await res.json();
  business.replaceChildren(...workspaces.map(w => new Option(w.brand, w.name)));
  const q = name => `workspace=${encodeURIComponent(name)}`;
  let asked = 0;  // a slower answer for the business picked before must not fill the picker

  async function loadCustomers() {
    const ticket = ++asked;
    const w = workspaces.find(x => x.name === business.value);
    title.textContent = w ? w.brand : "";
    // the product tiles are the store's; another business shows what it is
    const store = business.value === "default";
    document.getElementById("store-products").hidden = !store;
    document.getElementById("business-about").hidden = store || !(w && w.description);
    document.getElementById("business-description").textContent =
      w && w.description ? `${w.brand}: ${w.description}.` : "";
    picker.replaceChildren(new Option("Loading customers…", ""));
    const r = await fetch(`/demo/customers?${q(business.value)}`);
    const customers = r.ok ? await r.json() : [];
    if (ticket !== asked) return;
    picker.replaceChildren(new Option("Choose a customer…", ""),
      ...customers.map(c => new Option(`${c.name} (${c.id})`, c.id)));
    status.textContent = "";
  }
  business.addEventListener("change", loadCustomers);
  picker.addEventListener("change", async () => {
    if (!picker.value) return;
    const ws = business.value;  // the business it is asked of, whatever is picked meanwhile
    const r = await fetch(`/demo/identity?customer_id=${encodeURIComponent(picker.value)}&${q(ws)}`);
    const id = await r.json();
    if (ws !== business.value) return;
    window.Rapport.identify({ customerId: id.customer_id, userHash: id.user_hash,
      workspace: ws === "default" ? "" : ws });
    status.textContent = `Signed in as ${picker.options[picker.selectedIndex].text}.`;
  });
  await loadCustomers();
})();
