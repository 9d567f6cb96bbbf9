// The payment page: Stripe's Payment Element (cards, Bancontact) on Werkbank's own page. The
// booking is confirmed by Stripe's webhook, never by this script: after paying, the browser goes
// to the "done" page, which waits for that confirmation.
//
// A Stripe.js without the Payment Element (the stand-in a local Stripe-compatible server serves,
// e.g. localstripe) gets a card field instead: the card is tokenised by Stripe.js, the server
// confirms the PaymentIntent with it, and 3-D Secure is completed with confirmCardPayment.
(function () {
  const form = document.getElementById("payment-form");
  if (!form || typeof Stripe === "undefined") return;
  const button = document.getElementById("payment-submit");
  const message = document.getElementById("payment-message");
  const data = form.dataset;
  const stripe = Stripe(data.key, { locale: data.locale === "en" ? "en" : "nl" });
  const fullElement = typeof stripe.confirmPayment === "function";
  let elements, card;

  // Shows what went wrong and lets the school try again.
  function say(text) {
    message.textContent = text || message.dataset.fallback;
    message.hidden = false;
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }

  if (fullElement) {
    elements = stripe.elements({ clientSecret: data.secret, locale: data.locale === "en" ? "en" : "nl" });
    elements.create("payment", { layout: "tabs" }).mount("#payment-element");
  } else {
    elements = stripe.elements();
    card = elements.create("card");
    card.mount("#payment-element");
  }
  button.disabled = false;

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    message.hidden = true;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    pay().catch(() => say(""));  // a network failure, or Stripe.js gone: never a dead button
  });

  async function pay() {
    if (fullElement) {
      const result = await stripe.confirmPayment({ elements, confirmParams: { return_url: data.return }, redirect: "if_required" });
      if (result.error) { say(result.error.message || ""); return; }
      window.location.assign(data.return);
      return;
    }
    const tokenised = await stripe.createToken(card);
    if (tokenised.error || !tokenised.token) { say(tokenised.error && tokenised.error.message); return; }
    const response = await fetch(data.cardUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": data.csrf, Accept: "application/json" },
      body: JSON.stringify({ payment_method: tokenised.token.id }),
      credentials: "same-origin",
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) { say(answer.detail || ""); return; }
    if (answer.status === "requires_action") {
      const confirmed = await stripe.confirmCardPayment(answer.client_secret);
      if (confirmed.error) { say(confirmed.error.message || ""); return; }
    } else if (answer.error) {
      say(answer.error);
      return;
    }
    window.location.assign(answer.next || data.return);
  }
})();
