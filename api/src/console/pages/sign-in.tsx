/** The sign-in page: username, password and the authenticator's current code. */
import { Csrf, Layout, Notice } from "../layout";

export function SignInPage(props: { csrf: string; error?: string; username?: string }) {
	return (
		<Layout title="Sign in">
			<div class="signin">
				<h1>CricAlgo console</h1>
				{props.error ? <Notice kind="error">{props.error}</Notice> : null}
				<form method="post" action="/console/sign-in">
					<Csrf token={props.csrf} />
					<div class="field">
						<label for="username">Username</label>
						<input
							id="username"
							name="username"
							autocomplete="username"
							required
							maxlength={64}
							value={props.username ?? ""}
						/>
					</div>
					<div class="field">
						<label for="password">Password</label>
						<input
							id="password"
							name="password"
							type="password"
							autocomplete="current-password"
							required
							maxlength={256}
						/>
					</div>
					<div class="field">
						<label for="totp">Authenticator code</label>
						<input
							id="totp"
							name="totp"
							inputmode="numeric"
							autocomplete="one-time-code"
							pattern="[0-9]{6}"
							required
							maxlength={6}
						/>
					</div>
					<button type="submit">Sign in</button>
				</form>
				<p class="muted">For admins. A code is accepted once; wait for the next one to sign in again.</p>
			</div>
		</Layout>
	);
}
