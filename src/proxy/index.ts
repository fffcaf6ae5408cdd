/** The decoding proxy: `startProxy`, what it reports, and its recordings. */
export { startProxy, type HostPort, type Proxy, type ProxyEvent, type ProxyListener, type ProxyOptions } from './proxy.js';
export { ExchangeTracker, readRequestHead, type Exchange, type FrameSide, type ProxyStats, type RequestHead } from './exchange.js';
export { errorsOf, hasDecodeProblem, jsonLine, matcher, summaryLine, topicsOf, verboseText, type ExchangeFilter } from './format.js';
export { Recorder, replayRecording, type ReplayNotice } from './recording.js';
export { carriesAddresses, findAddresses, rewriteAddresses, type AddressChange, type FoundAddress } from './rewrite.js';
