/** What a tRPC mutation error carries for forms (see `InputErrors` in the tRPC setup). */
interface FormError {
  message: string;
  data?: { zodError?: { formErrors: string[]; fieldErrors: Partial<Record<string, string[]>> } | null } | null;
}

/**
 * One line for a form's alert: each invalid field with its first message ("pricing: a decimal USD amount…"), or the
 * server's message when the input was valid and the change itself was refused. Never the raw list of issues.
 */
export function formErrorMessage(error: FormError): string {
  const zodError = error.data?.zodError;
  if (zodError == null) return error.message;
  const fields = Object.entries(zodError.fieldErrors).flatMap(([field, messages]) =>
    messages?.[0] === undefined ? [] : [`${field}: ${messages[0]}`],
  );
  return [...zodError.formErrors, ...fields].join("; ") || error.message;
}
