import type { Metadata } from "next";
import { SignUpForm } from "~/components/auth/sign-up-form";

export const metadata: Metadata = { title: "Create an account" };

export default function SignUpPage() {
  return (
    <>
      <h1 className="auth-card__title">Create an account</h1>
      <p className="muted">Get an API key and call any model through one endpoint.</p>
      <SignUpForm />
    </>
  );
}
