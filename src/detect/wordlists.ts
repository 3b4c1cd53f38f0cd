/**
 * Small word lists bundled with the library (written for it, no third-party data): common given
 * names and surnames (to recognise names and to generate fake ones), place words and cities (for
 * fake addresses), and words that are never part of a person's name.
 */

/** Common given names (English-speaking and European countries). */
export const FIRST_NAMES = `
James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel Matthew
Anthony Mark Donald Steven Paul Andrew Joshua Kenneth Kevin Brian George Timothy Ronald Edward Jason
Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin Scott Brandon Benjamin Samuel
Gregory Alexander Frank Patrick Raymond Jack Dennis Jerry Tyler Aaron Jose Adam Nathan Henry Douglas
Zachary Peter Kyle Noah Ethan Jeremy Walter Christian Keith Roger Terry Austin Sean Gerald Carl Harold
Dylan Arthur Lawrence Jordan Jesse Bryan Billy Bruce Gabriel Joe Logan Alan Juan Albert Willie Elijah
Wayne Randy Vincent Mason Roy Ralph Bobby Russell Bradley Philip Eugene Oliver Harry Oscar Leo Max Tom
Ian Neil Hugo Lars Jan Luca Marco Pierre Hans Klaus Stefan Lukas Felix Emil Anton Mary Patricia
Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty Sandra Margaret Ashley
Kimberly Emily Donna Michelle Carol Amanda Melissa Deborah Stephanie Dorothy Rebecca Sharon Laura
Cynthia Amy Kathleen Angela Shirley Brenda Emma Anna Pamela Nicole Samantha Katherine Christine Helen
Debra Rachel Carolyn Janet Maria Catherine Heather Diane Olivia Julie Joyce Victoria Ruth Virginia
Lauren Kelly Christina Joan Evelyn Judith Andrea Hannah Megan Cheryl Jacqueline Martha Madison Teresa
Gloria Sara Janice Ann Kathryn Abigail Sophia Frances Jean Alice Judy Isabella Julia Grace Amber Denise
Danielle Marilyn Beverly Charlotte Natalie Theresa Diana Brittany Doris Kayla Alexis Lori Marie Chloe
Lucy Ella Mia Zoe Eva Clara Sophie Camille Giulia Pablo Lucia Carlos Miguel Ana Elena Marta Laura Sven Ingrid Astrid Ole Piotr Anna Ivan Olga Lena Sofia Ines Paula Rosa Ida Jane Kate Amelia Freya Ruby Ava Lily Nina
`.trim().split(/\s+/);

/** Common surnames. */
export const LAST_NAMES = `
Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez
Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark
Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams
Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz
Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson
Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray
Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins
Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Fisher Vasquez Simmons Graham Marshall Owens
Harrison Gibson Wallace Ellis Hamilton Murray Ford Webb Knight Palmer Mills Holmes Rose Stone Hunt Black
Dixon Payne Pierce Berry Lane Fox Hart Wells Hayes Shaw Spencer Walsh Byrne Ryan Doyle Quinn Burke Nash
Muller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch Richter Klein Wolf
Schroeder Neumann Braun Zimmermann Hartmann Lange Krause Werner Lehmann Dubois Durand Lefebvre Moreau
Laurent Simon Michel Garnier Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco
Jansen Visser Bakker Smit Meijer Novak Kowalski Nowak Wisniewski Hansen Larsen Nielsen Andersen
Johansson Karlsson Nilsson Eriksson Berg Lindberg
`.trim().split(/\s+/);

/** Words used to build fake street names. */
export const PLACE_WORDS = `
Oak Elm Pine Maple Cedar Birch Ash Willow Hazel Park Lake Hill River Bridge Mill Church Station Market
Victoria Albert Queen King Prince George Grove Meadow Orchard Spring Forest Harbor Harbour Chapel Castle
Manor Abbey Baker Bell Brook Bank Brighton Cambridge Chester Clifton Devon Dover Durham Essex Exeter
Garden Hamilton Highland Kent Lincoln Madison Newton Norfolk Oxford Preston Richmond Salisbury Sherwood
Stanley Sunset Union Walnut Warwick Wellington Western Windsor York Fairview Greenway Riverside Lakeview
Highfield Westfield Northgate Southgate Eastwood Redwood Silver Golden Rose Ivy Laurel Heather Primrose
`.trim().split(/\s+/);

/** Cities used in fake addresses. */
export const CITIES = `
London Leeds York Bath Derby Hull Bristol Oxford Leicester Norwich Reading Exeter Chester Glasgow Perth
Boston Austin Denver Dallas Tampa Miami Omaha Tulsa Reno Salem Eugene Dayton Akron Toledo Madison
Raleigh Phoenix Seattle Portland Atlanta Chicago Houston Newark Berlin Hamburg Munich Bremen Essen Bonn
Lyon Paris Nice Lille Nantes Rennes Milan Turin Rome Genoa Parma Dublin Cork Galway Oslo Bergen Malmo
Lund Basel Bern Zurich Geneva Vienna Graz Linz Prague Brno Ghent Bruges Leiden Utrecht Delft Aarhus
`.trim().split(/\s+/);

/** Street-type words (kept in fake addresses; they mark a street line). */
export const STREET_TYPES = `
Street St Road Rd Avenue Ave Av Lane Ln Drive Dr Boulevard Blvd Court Ct Place Pl Way Terrace Ter Close
Crescent Cres Square Sq Highway Hwy Parkway Pkwy Circle Cir Row Gardens Gdns Grove Gr Hill Park Mews
Walk Parade Alley Trail Trl Plaza Rise View Green Strasse Straße Weg Gasse Platz Allee Rue Via Calle
`.trim().split(/\s+/);

/** Capitalised words that are not names (headings, labels, organisations). */
export const NOT_NAME_WORDS = new Set(
  `
Account Accounts Holder Name Names Bank Banking Statement Statements Balance Balances Total Totals Date
Dates Page Pages Amount Amounts Payment Payments Paid Pay Credit Credits Debit Debits Card Cards Number
Numbers No Ref Reference Transaction Transactions Description Details Summary Opening Closing Period
Interest Fee Fees Charge Charges Tax Invoice Receipt Customer Client Service Services Sort Code IBAN BIC
Swift Routing Branch Address Street Road Avenue Lane Drive Limited Ltd Plc Inc Corp Corporation Company
Co Group Holdings Trust Fund Financial Finance Capital Savings Current Checking Loan Mortgage Deposit
Deposits Withdrawal Withdrawals Transfer Transfers Direct Standing Order Online Mobile Phone Email Fax Tel
Telephone Website Your The And Of For To From In On At By With Dear Sir Madam Yours Sincerely Regards
Thank You Please Note Important Information Notice Terms Conditions Contact Us Help Support Customer
Month Year Day Week Monday Tuesday Wednesday Thursday Friday Saturday Sunday United States Kingdom America Europe
Visa Mastercard Express American Card Cardholder Signature Signed Authorised Authorized Date Due
Minimum New Previous Available Limit Overdraft Estimate Estimated Report Annual Monthly Quarterly
Social Security Insurance Policy Claim Claims Member Members Employee Employer Salary Wage Wages
ID Registration Form Application Systems Consulting Logistics Supplies Foods Energy Media Group Holdings
Partners Solutions Industries Technologies Investments Securities Union Gmbh Llc Llp Version Section
Chapter Figure Table Appendix Annex Article Contents Index Introduction Overview Abstract
Konto Kontoauszug Kontonummer Kontoinhaber Inhaber Datum Betrag Saldo Summe Gesamt Rechnung Kunde Kunden
Kundennummer Straße Strasse Telefon Steuer Steuernummer Buchung Buchungstag Valuta Verwendungszweck
Überweisung Lastschrift Gutschrift Zahlung Zahlungen Gebühr Gebühren Zinsen Seite Anschrift Adresse Name
Vorname Nachname Geburtsdatum Unterschrift Sparkasse Volksbank Versicherung Vertrag Nummer Betreff Ihr Ihre
Sehr Geehrte Geehrter Mit Freundlichen Grüßen Datum Compte Relevé Solde Montant Débit Crédit Facture
Client Virement Prélèvement Frais Titulaire Adresse Téléphone Nom Prénom Madame Monsieur Objet Banque
Cordialement Date Naissance Référence Cuenta Extracto Saldo Importe Fecha Factura Cliente Transferencia
Recibo Comisión Titular Dirección Teléfono Nombre Apellidos Banco Atentamente Estimado Estimada Conto
Estratto Importo Data Fattura Bonifico Addebito Accredito Commissioni Intestatario Indirizzo Telefono Nome
Cognome Banca Distinti Saluti Gentile Rekening Afschrift Bedrag Datum Factuur Klant Overboeking Incasso
Kosten Rekeninghouder Adres Telefoon Naam Voornaam Geachte Met Vriendelijke Groet Conta Extrato Montante
Fatura Transferência Débito Crédito Comissão Morada Telefone Apelido Banco Cumprimentos Assunto
Calle Avenida Avda Plaza Paseo Camino Carrer Via Viale Piazza Piazzale Corso Vicolo Strada Rua Travessa
Praça Estrada Alameda Rue Boulevard Allée Chemin Impasse Quai Straße Strasse Platz Allee Gasse Straat Laan
Plein Gracht Kade UK USA EU AG SA BV NV KG SE SpA Srl SARL SAS
`
    .trim()
    .split(/\s+/)
    .map((w) => w.toLowerCase()),
);

/**
 * Large towns of the countries whose formats detection reads (and capitals), which the name
 * lexicon also holds as surnames: a run of capitalised words holding one is no name by lexicon.
 */
export const MAJOR_CITIES = `
Berlin Hamburg München Munich Köln Cologne Frankfurt Stuttgart Düsseldorf Dortmund Essen Leipzig Bremen Dresden
Hannover Nürnberg Duisburg Bochum Wuppertal Bielefeld Bonn Münster Mannheim Karlsruhe Augsburg Wiesbaden Paris
Marseille Lyon Toulouse Nice Nantes Strasbourg Montpellier Bordeaux Lille Rennes Reims Toulon Grenoble Dijon
Angers Nîmes Madrid Barcelona Valencia Sevilla Zaragoza Málaga Murcia Palma Bilbao Alicante Córdoba Valladolid
Vigo Gijón Granada Roma Rome Milano Milan Napoli Naples Torino Turin Palermo Genova Bologna Firenze Florence Bari
Catania Venezia Venice Verona Messina Padova Trieste Amsterdam Rotterdam Utrecht Eindhoven Groningen Tilburg
Almere Breda Nijmegen Haarlem Arnhem Lisboa Lisbon Porto Braga Coimbra Funchal Setúbal Aveiro Faro Évora London
Manchester Birmingham Liverpool Edinburgh Glasgow Dublin Brussels Bruxelles Brussel Antwerpen Gent Wien Vienna
Zürich Genève Luxembourg Madrid Washington Chicago Houston Dallas Denver Boston Seattle Atlanta Detroit Austin
`.trim().split(/\s+/);

/** US state and territory abbreviations. */
export const US_STATES = `
AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH
OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR GU VI
`.trim().split(/\s+/);
