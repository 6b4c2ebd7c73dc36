// What a reload of the chat page brings back (Components/Chat/TabMemory.cs): the user name and rooms, in this tab's
// sessionStorage only. Signing out forgets it first, and nothing the server sends afterwards writes it back.
window.chatTabMemory = {
  key: 'realtimedemo.chat',
  signedOut: false,
  recall() {
    return sessionStorage.getItem(this.key);
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
    this.forget();
    location.reload(); // a new circuit: the old one's gateway connection closes with it
  },
};
