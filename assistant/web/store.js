// Demo only: pick a customer and get the identity hash a site's backend would compute.
(async () => {
  const picker = document.getElementById("customer-picker");
  const status = document.getElementById("signed-in");
  const res = await fetch("/demo/customers");
  if (!res.ok) { status.textContent = "Demo helpers are off."; return; }
  const customers = await res.json();
  picker.replaceChildren(new Option("Choose a customer…", ""),
    ...customers.map(c => new Option(`${c.name} (${c.id})`, c.id)));
  picker.addEventListener("change", async () => {
    if (!picker.value) return;
    const r = await fetch(`/demo/identity?customer_id=${encodeURIComponent(picker.value)}`);
    const id = await r.json();
    window.Rapport.identify({ customerId: id.customer_id, userHash: id.user_hash });
    status.textContent = `Signed in as ${picker.options[picker.selectedIndex].text}.`;
  });
})();
