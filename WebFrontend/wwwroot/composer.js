// The chat page's message boxes are emptied here, in the page, and never by the server. Emptied by the server (a bound
// value set to "" and rendered), a box was emptied a round trip later, with whatever had been typed meanwhile: the
// next message, which Enter then sent as an empty box, so it was lost without a word.

// The room's box: emptied as its form is submitted (a send that fails shows in the list, with Retry).
document.addEventListener('submit', (event) => {
  for (const box of event.target.querySelectorAll('[data-empties-on-submit]')) {
    box.value = '';
  }
});

window.chatComposer = {
  // The private box: once the recipient has the message (a refusal leaves it for another try), what was sent is taken
  // out and what was typed after it stays: typing goes on at the end of the sent text while it is on its way. The
  // input event tells the server, in order with the keystrokes after it.
  takeOut(box, sent) {
    if (box && box.value.startsWith(sent)) {
      box.value = box.value.slice(sent.length).trimStart();
      box.dispatchEvent(new Event('input', { bubbles: true }));
    }
  },
};
