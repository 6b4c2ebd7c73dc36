// What a reload of the chat page brings back (Components/Chat/TabMemory.cs): the user name and rooms, in this tab's
// sessionStorage only. Signing out forgets it first, and nothing the server sends afterwards writes it back.
window.chatTabMemory = {
  key: 'realtimedemo.chat',
  // As TabMemory.MaxLength: a larger value is none this page wrote, and would not fit in one message to the server.
  maxLength: 16384,
  signedOut: false,
  recall() {
    const value = sessionStorage.getItem(this.key);
    if (value !== null && value.length > this.maxLength) {
      this.forget();
      return null;
    }
    return value;
  },
  keep(value) {
    if (!this.signedOut) {
      sessionStorage.setItem(this.key, value);
    }
  },
  forget() {
    sessionStorage.removeItem(this.key);
  },
  signOut() {
    this.signedOut = true;
    try {
      this.forget();
    } finally {
      location.reload(); // a new circuit: the old one's gateway connection closes with it
    }
  },
};
