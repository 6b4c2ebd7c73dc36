// The chat page's message box is emptied here, in the page, as its form is submitted. Emptied by the server (a bound
// value set to "" and rendered), the box was emptied a round trip later, with whatever had been typed meanwhile: the
// next message, which Enter then sent as an empty box, so it was lost without a word. The server never writes the box.
document.addEventListener('submit', (event) => {
  for (const box of event.target.querySelectorAll('[data-empties-on-submit]')) {
    box.value = '';
  }
});
