import { signOutAndLeave } from "~/server/auth/actions";

export function SignOutButton() {
  return (
    <form action={signOutAndLeave}>
      <button type="submit" className="button button--ghost">
        Sign out
      </button>
    </form>
  );
}
