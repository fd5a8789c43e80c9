// Microphone frames for the recogniser: the AudioContext runs at 16 kHz, so each block is
// already at the rate the server wants; the main thread turns it into 16-bit PCM.
class MicForwarder extends AudioWorkletProcessor {
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel) this.port.postMessage(channel.slice(0));
    return true;
  }
}
registerProcessor("mic-forwarder", MicForwarder);
