// Authentication failures: the message goes back to the client in SaslAuthenticate's
// error_message (Kafka does the same) and the connection is closed after the answer.
export class SaslAuthenticationError extends Error {
  override name = 'SaslAuthenticationError';
}
