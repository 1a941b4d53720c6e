import type { Metadata } from "next";
import { ForgotPasswordForm } from "~/components/auth/recovery-forms";

export const metadata: Metadata = { title: "Forgot your password?" };

export default function ForgotPasswordPage() {
  return (
    <>
      <h1 className="auth-card__title">Forgot your password?</h1>
      <p className="muted">We will email you a link to choose a new one.</p>
      <ForgotPasswordForm />
    </>
  );
}
