// Fedify 1.x targets Node 22; Node 20 (Debian's) lacks only ArrayBuffer.prototype.transfer,
// which its byte-encodings dependency calls. This is the standard behaviour, copied bytes.
if (!ArrayBuffer.prototype.transfer) {
  Object.defineProperty(ArrayBuffer.prototype, "transfer", {
    value(length) {
      const size = length ?? this.byteLength;
      const copy = new ArrayBuffer(size);
      new Uint8Array(copy).set(new Uint8Array(this, 0, Math.min(size, this.byteLength)));
      return copy;
    },
  });
}
