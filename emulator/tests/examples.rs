//! Documents served: examples by path template, documented errors on demand, Swagger 2,
//! unreadable documents.

mod support;

use gouvgen_emulator::{Emulator, GatewayConfig};
use serde_json::{Value, json};

use support::*;

// ---------------------------------------------------------------- examples

#[tokio::test]
async fn serves_examples_by_path_template() {
    let emu = Emulator::start(particulier()).await;
    let base = emu.base_url();
    let get = |path: &str| {
        http()
            .get(format!("{base}{path}"))
            .header("X-Api-Key", "cle")
    };

    let r = get(SITUATION).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "content-type"),
        Some("application/prs.dgfip.part.situations.ir.assiettes.v1+json")
    );
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"nbPart": 2.5, "nmNaDec1": "MARTIN", "pac": {"nbPac": 1}})
    );

    let r = get(SITUATION)
        .header("Accept", "application/xml")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "content-type"), Some("application/xml"));
    assert_eq!(
        r.text().await.unwrap(),
        "<situation><nbPart>2.5</nbPart></situation>"
    );

    let r = get("/mini/1.0/spi/1/situations/ir/assiettes/annrev/derniere")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"derniere": true}),
        "a literal path wins over a template"
    );

    let r = get("/mini/1.0/documents/avis-2024.pdf")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "content-type"), Some("application/pdf"));
    assert_eq!(r.text().await.unwrap(), "%PDF-1.4 faux");

    let r = http()
        .post(format!("{base}/mini/1.0/notes"))
        .header("X-Api-Key", "cle")
        .json(&json!({"texte": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "YAML integer status keys are read");
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"id": 1, "texte": "bonjour"}),
        "the schema's example through $ref"
    );

    let r = http()
        .delete(format!("{base}/mini/1.0/notes/5"))
        .header("X-Api-Key", "cle")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(header(&r, "content-type").is_none());
    assert!(r.bytes().await.unwrap().is_empty());

    let r = get("/mini/1.0/notes/5").send().await.unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"id": 5, "texte": "clé a/b"}),
        "$ref with ~1 resolved"
    );

    let r = http()
        .get(format!("{base}/mini/1.0/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "security: [] needs no credentials");
    assert_eq!(r.text().await.unwrap(), "OK");

    let r = get("/spi/1/situations/ir/assiettes/annrev/2024")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "operations live under the base path only");
    assert_eq!(
        r.json::<Value>().await.unwrap()["errors"][0]["code"],
        "00404"
    );
    let r = http()
        .put(format!("{base}{SITUATION}"))
        .header("X-Api-Key", "cle")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let r = get("/mini/1.0/spi/1/situations").send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(
        emu.operations().contains(
            &"GET /mini/1.0/spi/{spi}/situations/ir/assiettes/annrev/{annrev}".to_string()
        ),
        "{:?}",
        emu.operations()
    );
}

#[tokio::test]
async fn documented_errors_on_demand() {
    let emu = Emulator::start(particulier()).await;
    let url = format!("{}{SITUATION}", emu.base_url());
    let get = |status: &str| {
        http()
            .get(&url)
            .header("X-Api-Key", "cle")
            .header("X-Emulator-Status", status)
    };

    let r = get("404").send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"erreur": {"code": 404, "message": "spi inconnu"}}),
        "through #/components/responses"
    );

    let r = get("400").send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["erreur"]["code"],
        102511,
        "first example, through #/components/examples"
    );
    let r = get("400")
        .header("X-Emulator-Example", "annee")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["erreur"]["code"],
        102512,
        "named example"
    );
    let r = get("400")
        .header("X-Emulator-Example", "absent")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert!(header(&r, "x-emulator-error").is_some());

    let r = get("429").send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(
        header(&r, "retry-after"),
        Some("7"),
        "documented header example"
    );

    let r = get("503").send().await.unwrap();
    assert_eq!(r.status(), 503, "undocumented: the gateway's own body");
    assert_eq!(
        r.json::<Value>().await.unwrap()["errors"][0]["code"],
        "00503"
    );

    let stats = emu.stats();
    assert_eq!(stats.throttled, 0, "asked-for 429s are not quota refusals");
    assert_eq!(stats.api_successes, 0);
}

#[tokio::test]
async fn swagger2_documents() {
    let emu = Emulator::start(
        GatewayConfig::piste()
            .api_key("KeyId", "cle")
            .mount_spec(fixture("mini-swagger.json")),
    )
    .await;
    let get = |path: &str| {
        http()
            .get(format!("{}/dila/mini/v1{path}", emu.base_url()))
            .header("KeyId", "cle")
    };
    let r = get("/codes/LEGITEXT1").send().await.unwrap();
    assert_eq!(header(&r, "content-type"), Some("application/json"));
    assert_eq!(header(&r, "x-rate-limit"), Some("[]"));
    assert_eq!(r.json::<Value>().await.unwrap()["titre"], "Code civil");
    let r = get("/codes/X")
        .header("X-Emulator-Status", "404")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<Value>().await.unwrap()["messages"][0]["code"],
        "E404",
        "schema example through #/definitions"
    );
    let r = get("/ping").send().await.unwrap();
    assert_eq!(header(&r, "content-type"), Some("text/plain"));
    assert_eq!(r.text().await.unwrap(), "pong");
}

#[tokio::test]
async fn unreadable_documents_are_reported() {
    let err = Emulator::try_start(GatewayConfig::dgfip().mount_spec(fixture("absent.yaml")))
        .await
        .unwrap_err();
    assert!(err.contains("absent.yaml"), "{err}");
}
