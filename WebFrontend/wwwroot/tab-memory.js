// What a reload of the chat page brings back (Components/Chat/TabMemory.cs): the user name and rooms, in this tab's
// sessionStorage only. Signing out forgets it first, and nothing the server sends afterwards writes it back.
window.chatTabMemory = {
  key: 'realtimedemo.chat',
  // What this page writes stays well under it (TabMemory.MaxLength, 16,384 characters of names); a larger value,
  // as it travels to the server, could pass Blazor's 32 KB message limit and close the page's connection.
  maxBytes: 30000,
  signedOut: false,
  recall() {
    const value = sessionStorage.getItem(this.key);
    if (value !== null && new TextEncoder().encode(JSON.stringify(value)).length > this.maxBytes) {
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
