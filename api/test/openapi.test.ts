/**
 * `GET /api/v1/openapi.json`: a valid OpenAPI 3.1 document (checked by @readme/openapi-parser,
 * the validator ReadMe runs), that documents every route the Worker registers and no other, with
 * request schemas that are the routes' own: what the document calls invalid, the route refuses.
 */
import { validate } from "@readme/openapi-parser";
import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import { DOCUMENTED_ROUTES } from "../src/openapi/document";

/** What the edge Worker answers without the API Worker. */
const EDGE_ROUTES = ["GET /api/v1/health", "POST /api/v1/webhooks/:name"];

import { call, json } from "./support/accounts";

async function fetchDocument() {
	const res = await call("/api/v1/openapi.json");
	expect(res.status).toBe(200);
	expect(res.headers.get("content-type")).toMatch(/^application\/json/);
	return json(res);
}

describe("the OpenAPI document", () => {
	it("is a valid OpenAPI 3.1 document", async () => {
		const document = await fetchDocument();
		expect(document.openapi).toMatch(/^3\.1\./);
		const result = await validate(structuredClone(document));
		expect(result.valid, JSON.stringify("errors" in result ? result.errors : [], null, 1)).toBe(true);
		// The validator does refuse a broken document (a response without its description).
		const broken = structuredClone(document);
		delete broken.paths["/api/v1/wallet"].get.responses["200"].description;
		expect((await validate(broken)).valid).toBe(false);
	});

	it("documents every API route the Worker registers and the edge's own, and only those", () => {
		const registered = new Set(
			app.routes
				.filter((r) => r.method !== "ALL" && r.path.startsWith("/api/v1/"))
				.map((r) => `${r.method} ${r.path.replace(/\/$/, "")}`),
		);
		// The routes the edge Worker serves itself (worker/test/forwarding.test.ts checks that the
		// edge registers these and that the document it forwards lists them); the deep health check
		// is the API's too.
		for (const route of EDGE_ROUTES) registered.add(route);
		expect([...registered].sort()).toEqual([...new Set(DOCUMENTED_ROUTES)].sort());
	});

	it("describes request bodies with the routes' own schemas", async () => {
		const document = await fetchDocument();
		const login = document.paths["/api/v1/login"].post.requestBody.content["application/json"].schema;
		expect(login.required).toEqual(expect.arrayContaining(["username", "password"]));
		expect(login.properties.username).toMatchObject({ type: "string", minLength: 1, maxLength: 64 });
		// What the document says is too long, the route refuses.
		const res = await call("/api/v1/login", {
			body: { username: "x".repeat(login.properties.username.maxLength + 1), password: "p" },
		});
		expect(res.status).toBe(422);
		const webhook =
			document.paths["/api/v1/webhooks/{name}"].post.requestBody.content["application/json"].schema;
		expect(webhook.required).toContain("tx_hash");
		const list = document.paths["/api/v1/transactions"].get.parameters.find(
			(p: { name: string }) => p.name === "limit",
		);
		expect(list.schema).toMatchObject({ maximum: 100, minimum: 1 });
	});

	it("documents the error shape the routes answer, and each route's error statuses", async () => {
		const document = await fetchDocument();
		const schema = document.components.schemas.Error.properties.error;
		const res = await call("/api/v1/login", { body: { username: "", password: "p" } });
		expect(res.status).toBe(422);
		const { error } = await json(res);
		expect(Object.keys(error).sort()).toEqual([...schema.required, "fields"].sort());
		expect(schema.properties.code.enum).toContain(error.code);
		expect(Object.keys(error.fields[0]).sort()).toEqual([...schema.properties.fields.items.required].sort());
		// A JSON body implies 400, 413, 415 and 422; a bearer token 401, 403 and 503.
		const assign = document.paths["/api/v1/admin/deposits/{tx_id}/assign"].post.responses;
		expect(Object.keys(assign).sort()).toEqual([
			"202",
			"400",
			"401",
			"403",
			"404",
			"409",
			"413",
			"415",
			"422",
			"503",
		]);
		const health = document.paths["/api/v1/health"].get.responses;
		expect(Object.keys(health).sort()).toEqual(["200", "429", "503"]);
	});
});
