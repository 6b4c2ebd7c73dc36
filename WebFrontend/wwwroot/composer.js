// The chat page's message boxes are emptied here, in the page, and never by the server. Emptied by the server (a bound
// value set to "" and rendered), a box was emptied a round trip later, with whatever had been typed meanwhile: the
// next message, which Enter then sent as an empty box, so it was lost without a word.

// The room's box: emptied as its form is submitted (a send that fails shows in the list, with Retry). The private
// box: what it held as its form was submitted is remembered, for as long as the box still starts with it.
document.addEventListener('submit', (event) => {
  for (const box of event.target.querySelectorAll('[data-empties-on-submit]')) {
    box.value = '';
  }
  for (const box of event.target.querySelectorAll('[data-takes-out-sent]')) {
    box.sent = box.value;
  }
});

document.addEventListener('input', (event) => {
  const box = event.target;
  if (box.sent !== undefined && !box.value.startsWith(box.sent)) {
    delete box.sent; // edited into, or emptied and typed anew: no longer the sent text with more after it
  }
});

// A message may hold line breaks: its box is a text area where Enter sends and Shift+Enter starts a new line (Enter
// that ends an input method's composition is the composition's).
document.addEventListener('keydown', (event) => {
  const box = event.target;
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && box.matches?.('textarea[data-enter-sends]')) {
    event.preventDefault();
    box.form?.requestSubmit();
  }
});

// Edit, on a message the gateway refused: its text goes back into the room's box, after what is typed there.
document.addEventListener('click', (event) => {
  const edit = event.target.closest?.('[data-puts-back]');
  const box = edit && document.querySelector('[data-empties-on-submit]');
  if (box) {
    const text = edit.getAttribute('data-puts-back');
    box.value = box.value.trim() ? `${box.value.trimEnd()} ${text}` : text;
    box.dispatchEvent(new Event('input', { bubbles: true }));
    box.focus();
  }
});

window.chatComposer = {
  // The private box: once the recipient has the message (a refusal leaves it for another try), the sent text is taken
  // out and what was typed after it stays: typing goes on at the end of the sent text while it is on its way. The
  // input event tells the server, in order with the keystrokes after it.
  takeOut(box, sent) {
    const still = box && box.sent === sent && box.value.startsWith(sent);
    if (box) {
      delete box.sent;
    }
    if (still) {
      box.value = box.value.slice(sent.length).trimStart();
      box.dispatchEvent(new Event('input', { bubbles: true }));
    }
  },
};
